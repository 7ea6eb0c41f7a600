using System.Diagnostics.Metrics;
using HierRec.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HierRec.Extensions.Tests;

public sealed class RecommenderPoolTests
{
    private static IHost Host(Action<IServiceCollection> configure, Dictionary<string, string?>? settings = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Logging.ClearProviders();
        configure(builder.Services);
        return builder.Build();
    }

    private static async Task<T> Eventually<T>(Func<T?> probe, TimeSpan timeout) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value) return value;
            await Task.Delay(50);
        }
        throw new TimeoutException("The condition did not hold in time.");
    }

    [Fact]
    public async Task OptionsFromConfiguration_AreValidatedAtStartUp_WithEveryProblemNamed()
    {
        using var host = Host(s => s.AddHierRec(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:a:Path"] = "", ["Models:b:Path"] = "/x", ["DefaultModel"] = "c", ["ReloadDelay"] = "01:00:00", ["RetiredModelDisposeDelay"] = "-00:00:01",
        }).Build()));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("HierRec:Models:a:Path is required", ex.Message);
        Assert.Contains("HierRec:DefaultModel 'c'", ex.Message);
        Assert.Contains("HierRec:ReloadDelay", ex.Message);
        Assert.Contains("HierRec:RetiredModelDisposeDelay", ex.Message);
    }

    [Fact]
    public async Task NamedModels_LoadInTheBackground_AndTheReadinessCheckFollows()
    {
        string a = TestModel.Copy(), b = TestModel.Copy();
        using var host = Host(s =>
        {
            s.AddHierRec().FromFolder("a", a, watchForChanges: false).FromFolder("b", b, watchForChanges: false);
            s.Configure<HierRecOptions>(o => o.DefaultModel = "a");
            s.AddHealthChecks().AddHierRec();
        });
        var pool = host.Services.GetRequiredService<RecommenderPool>();
        Assert.False(pool.AllLoaded);
        Assert.Throws<InvalidOperationException>(() => pool.Get());
        await host.StartAsync();
        await Eventually(() => pool.AllLoaded ? pool : null, TimeSpan.FromSeconds(60));
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
        var (split, r, _) = TestModel.Saved.Value;
        string user = split.Train.Users.ToExternal(3);
        Assert.Equal(r.Recommend(user, 5).Select(x => x.ItemId), pool.Get("b").Recommend(user, 5).Select(x => x.ItemId));
        Assert.Same(pool.Get(), pool.Get("a"));
        Assert.Contains("No model named 'c'", Assert.Throws<KeyNotFoundException>(() => pool.Get("c")).Message);
        await host.StopAsync();
    }

    [Fact]
    public async Task ASavedNewVersion_IsSwappedIn_AFailedReloadKeepsTheOldOne_AndSwapsAreCounted()
    {
        string folder = TestModel.Copy();
        long swaps = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == HierRecTelemetry.Name && i.Name == "hierrec.model.swaps") l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
        {
            foreach (var t in tags) if (t.Key == "hierrec.model" && (string?)t.Value == "m") Interlocked.Add(ref swaps, v);
        });
        listener.Start();
        using var host = Host(s => s.AddHierRec().FromFolder("m", folder, watchForChanges: true), new() { ["HierRec:ReloadDelay"] = "00:00:00.2" });
        var pool = host.Services.GetRequiredService<RecommenderPool>();
        await host.StartAsync();
        var first = await Eventually(() => pool.TryGet("m"), TimeSpan.FromSeconds(60));
        // A new save of the folder (the same model here) is noticed and swapped in; the old reference still serves.
        TestModel.Saved.Value.Recommender.Save(folder);
        var second = await Eventually(() => pool.Info("m")!.Generation >= 2 ? pool.Get("m") : null, TimeSpan.FromSeconds(30));
        Assert.NotSame(first, second);
        Assert.NotEmpty(first.Recommend(TestModel.Saved.Value.Split.Train.Users.ToExternal(1), 3));
        Assert.True(Interlocked.Read(ref swaps) >= 1);
        // A broken folder: the reload fails, is reported, and the version in service stays.
        File.WriteAllText(Path.Combine(folder, "recommender.json"), "{ broken");
        Assert.False(await pool.ReloadAsync("m"));
        Assert.Same(second, pool.Get("m"));
        Assert.NotNull(pool.Info("m")!.LastError);
        await host.StopAsync();
    }

    [Fact]
    public async Task AReplacedVersion_IsDisposedWhenItsLastLeaseEnds_AndNotBefore()
    {
        string folder = TestModel.Copy();
        using var host = Host(s =>
        {
            s.AddHierRec().FromFolder("m", folder, watchForChanges: false);
            s.Configure<HierRecOptions>(o => o.RetiredModelDisposeDelay = TimeSpan.Zero);
        });
        var pool = host.Services.GetRequiredService<RecommenderPool>();
        await host.StartAsync();
        await Eventually(() => pool.AllLoaded ? pool : null, TimeSpan.FromSeconds(60));
        string user = TestModel.Saved.Value.Split.Train.Users.ToExternal(1);
        var lease = pool.Rent("m");
        var old = lease.Recommender;
        Assert.Equal(1, lease.Info.Generation);
        Assert.True(await pool.ReloadAsync("m"));
        // The request that holds the old version finishes on it; new requests get the new one.
        Assert.False(old.IsDisposed);
        Assert.NotEmpty(old.Recommend(user, 3));
        using (var fresh = pool.Rent("m"))
        {
            Assert.NotSame(old, fresh.Recommender);
            Assert.Equal(2, fresh.Info.Generation);
        }
        Assert.Equal(1, pool.RetiredVersions); // the pool's hold on it is gone (delay 0); the lease's is not
        lease.Dispose();
        Assert.True(old.IsDisposed); // its native memory is freed
        Assert.Throws<ObjectDisposedException>(() => old.Recommend(user, 3));
        lease.Dispose(); // twice: harmless
        Assert.False(pool.Get("m").IsDisposed);
        Assert.Equal(0, pool.RetiredVersions);
        await host.StopAsync();
    }

    [Fact]
    public async Task WithoutALease_AReplacedVersionLivesOutTheDelay_AndThePoolsDisposalFreesTheRest()
    {
        string folder = TestModel.Copy();
        var host = Host(s =>
        {
            s.AddHierRec().FromFolder("m", folder, watchForChanges: false);
            s.Configure<HierRecOptions>(o => o.RetiredModelDisposeDelay = TimeSpan.FromSeconds(2));
        });
        var pool = host.Services.GetRequiredService<RecommenderPool>();
        await host.StartAsync();
        var first = await Eventually(() => pool.TryGet("m"), TimeSpan.FromSeconds(60));
        Assert.True(await pool.ReloadAsync("m"));
        Assert.False(first.IsDisposed); // Get's plain reference gets the delay
        Assert.Equal(1, pool.RetiredVersions);
        await Eventually(() => first.IsDisposed ? first : null, TimeSpan.FromSeconds(30));
        Assert.Equal(0, pool.RetiredVersions);
        // Held at shutdown: disposed when the lease ends, not under it.
        var held = pool.Rent("m");
        await host.StopAsync();
        host.Dispose();
        Assert.False(held.Recommender.IsDisposed);
        Assert.Null(pool.TryGet("m"));
        held.Dispose();
        Assert.True(held.Recommender.IsDisposed);
    }

    [Fact]
    public void TrainingProgress_GoesToTheLog()
    {
        var entries = new List<string>();
        var logger = new ListLogger(entries);
        var data = HierRec.Data.SyntheticDataset.Generate(new HierRec.Data.SyntheticOptions { Users = 20, Items = 30, MeanInteractions = 6 });
        HierRec.Baselines.BprMf.Fit(data, null, new HierRec.Baselines.BprOptions { Dimension = 4, MaxEpochs = 2 }, new TrainingProgressLogger(logger));
        Assert.Contains(entries, e => e.StartsWith("Training: ", StringComparison.Ordinal));
    }

    private sealed class ListLogger(List<string> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => entries.Add(formatter(state, exception));
    }
}
