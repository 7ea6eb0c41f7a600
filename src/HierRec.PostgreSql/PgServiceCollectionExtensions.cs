using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace HierRec.PostgreSql;

/// <summary>Registration of the PostgreSQL item store beside <c>AddHierRec</c>.</summary>
public static class PgServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="NpgsqlDataSource"/> for <paramref name="connectionString"/> with pgvector's types (a
    /// singleton, disposed with the container) and a <see cref="PgItemStore"/> over it with table prefix
    /// <paramref name="prefix"/>.
    /// </summary>
    public static IServiceCollection AddHierRecPostgreSql(this IServiceCollection services, string connectionString, string prefix = "hierrec_items")
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        PgIdentifier.Check(prefix, nameof(prefix));
        services.TryAddSingleton(_ => PgItemStore.CreateDataSource(connectionString));
        services.TryAddSingleton(sp => new PgItemStore(sp.GetRequiredService<NpgsqlDataSource>(), prefix));
        return services;
    }
}
