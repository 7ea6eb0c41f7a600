using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;

namespace HierRec.Extensions.Tests;

/// <summary>
/// The explanation page in a real browser: Debian's chromium driven by Playwright (Playwright's own browser download
/// does not work here). Skipped visibly where chromium is absent, except in CI, where .ci/run installs it.
/// </summary>
public sealed class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    public sealed class BrowserFactAttribute : FactAttribute
    {
        public BrowserFactAttribute()
        {
            bool ci = Environment.GetEnvironmentVariable("CI") is { Length: > 0 } v && v != "false";
            if (!File.Exists(Chromium) && !ci) Skip = $"skipped: no browser at {Chromium} (apt-get install chromium)";
        }
    }

    [BrowserFact]
    public async Task TheExplanationPage_ShowsItsTextAndBars_InChromium()
    {
        using var factory = new ServiceFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateClient();
        for (int i = 0; i < 600 && !(await client.GetAsync("/health/ready")).IsSuccessStatusCode; i++) await Task.Delay(100);
        string user = TestModel.Saved.Value.Split.Train.Users.ToExternal(3), item = TestModel.Saved.Value.Split.Train.Items.ToExternal(5);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Args = ["--no-sandbox"], Headless = true });
        var page = await browser.NewPageAsync();
        var response = await page.GotoAsync(new Uri(client.BaseAddress!, $"/users/{user}/explanations/{item}").ToString());
        Assert.Equal(200, response!.Status);
        Assert.Contains(item, await page.TitleAsync());
        string text = await page.InnerTextAsync("body");
        Assert.Contains(item, text);
        Assert.Contains("your history", text);
        Assert.True(await page.Locator("svg rect").CountAsync() >= 3, "one bar per layer at least");
        string artifacts = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "explanation-page.png"), FullPage = true });
        Assert.True(new FileInfo(Path.Combine(artifacts, "explanation-page.png")).Length > 1000);
    }
}
