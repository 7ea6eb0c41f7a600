using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace HierRec.Extensions.Tests;

/// <summary>The sample service over a copy of the test model, with an API key and a short reload delay.</summary>
public class ServiceFactory : WebApplicationFactory<Program>
{
    public string ModelFolder { get; } = TestModel.Copy();

    public const string ApiKey = "test-key-1234";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Configure(builder);
    }

    protected virtual void Configure(IWebHostBuilder builder)
    {
        builder.UseSetting("HierRec:Models:default:Path", ModelFolder);
        builder.UseSetting("HierRec:Models:default:WatchForChanges", "true");
        builder.UseSetting("HierRec:ReloadDelay", "00:00:00.2");
        builder.UseSetting("Admin:ApiKey", ApiKey);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }

    /// <summary>A client once the model is loaded (readiness 200).</summary>
    public async Task<HttpClient> ReadyClient()
    {
        var client = CreateClient();
        for (int i = 0; i < 600; i++)
        {
            if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode) return client;
            await Task.Delay(100);
        }
        throw new TimeoutException("The service did not become ready.");
    }
}

/// <summary>As <see cref="ServiceFactory"/>, with the dynamic recommender of <see cref="TestModel.DynamicFolder"/>.</summary>
public class WebApplicationFactoryWithDynamic : ServiceFactory
{
    protected override void Configure(IWebHostBuilder builder)
    {
        base.Configure(builder);
        builder.UseSetting("dynamic", TestModel.DynamicFolder.Value);
    }
}

/// <summary>As <see cref="ServiceFactory"/>, serving the model of <see cref="TestModel.ConceptFolder"/> (with concepts).</summary>
public class WebApplicationFactoryWithConcepts : ServiceFactory
{
    protected override void Configure(IWebHostBuilder builder)
    {
        base.Configure(builder);
        builder.UseSetting("HierRec:Models:default:Path", TestModel.ConceptFolder.Value);
        builder.UseSetting("HierRec:Models:default:WatchForChanges", "false");
    }
}
