using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace HierRec.Extensions.Tests;

/// <summary>The sample service over HTTP: every endpoint and error path, the API key, and hot reload under load.</summary>
public sealed class ServiceTests : IClassFixture<ServiceFactory>
{
    private readonly ServiceFactory _factory;

    public ServiceTests(ServiceFactory factory) => _factory = factory;

    private static string User(int u) => TestModel.Saved.Value.Split.Train.Users.ToExternal(u);

    private static string Item(int i) => TestModel.Saved.Value.Split.Train.Items.ToExternal(i);

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task KnownUsers_GetTheModelsTopK_WithScoresAndProbabilities()
    {
        var client = await _factory.ReadyClient();
        var response = await client.GetAsync($"/users/{User(2)}/recommendations?k=5");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        var items = body.GetProperty("items").EnumerateArray().ToArray();
        var expected = TestModel.Saved.Value.Recommender.Recommend(User(2), 5);
        Assert.Equal(expected.Select(x => x.ItemId), items.Select(i => i.GetProperty("itemId").GetString()));
        Assert.All(items, i => Assert.InRange(i.GetProperty("probability").GetDouble(), 0, 1));
        Assert.All(items, i => Assert.Equal(JsonValueKind.Null, i.GetProperty("keptForNewItem").ValueKind)); // the static model keeps no place
        Assert.Equal("default", body.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("/users/{user}/recommendations?k=0", 400, "k")]
    [InlineData("/users/{user}/recommendations?k=5000", 400, "k")]
    [InlineData("/users/{user}/recommendations?k=abc", 400, null)]
    [InlineData("/users/nobody/recommendations", 404, null)]
    [InlineData("/users/{user}/recommendations?description=likes+mystery", 400, null)]
    [InlineData("/users/nobody/explanations/{item}", 404, null)]
    [InlineData("/users/{user}/recommendations?time=1700000000", 400, null)]
    [InlineData("/users/{user}/explanations/no-such-item", 404, null)]
    [InlineData("/explanations/{item}", 400, "description")]
    [InlineData("/explanations/{item}?description=likes+mystery", 400, null)]
    [InlineData("/explanations/no-such-item?description=likes+mystery", 404, null)]
    public async Task BadRequests_AreProblemDetails_NeverA500(string path, int status, string? field)
    {
        var client = await _factory.ReadyClient();
        var response = await client.GetAsync(path.Replace("{user}", User(1)).Replace("{item}", Item(1)));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null) Assert.True((await Json(response)).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task AnOverlongDescription_IsRefusedWithItsLimit()
    {
        var client = await _factory.ReadyClient();
        var response = await client.GetAsync($"/users/{User(1)}/recommendations?description={new string('a', 5000)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the limit is 4096", (await Json(response)).GetProperty("errors").GetProperty("description")[0].GetString());
    }

    [Fact]
    public async Task NewUsers_AreServed_AndUnknownFriendsOrItemsNameTheField()
    {
        var client = await _factory.ReadyClient();
        var ok = await client.PostAsJsonAsync("/recommendations", new { categorical = new { gender = "F" }, numeric = new { age = 31 }, friends = new[] { User(4) }, recentItems = new[] { Item(2) }, k = 4 });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(4, (await Json(ok)).GetProperty("items").GetArrayLength());

        var bad = await client.PostAsJsonAsync("/recommendations", new { friends = new[] { User(4), "ghost" }, recentItems = new[] { "no-item" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Json(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("friends[1]", out _));
        Assert.True(errors.TryGetProperty("recentItems[0]", out _));

        var malformed = await client.PostAsync("/recommendations", new StringContent("{\"k\": \"many\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("$.k", (await Json(malformed)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Explanations_AreJson_OrAnHtmlPage()
    {
        var client = await _factory.ReadyClient();
        var json = await Json(await client.GetAsync($"/users/{User(3)}/explanations/{Item(5)}"));
        Assert.Equal(Item(5), json.GetProperty("itemId").GetString());
        Assert.True(json.GetProperty("layerContributions").TryGetProperty("behaviour", out _));
        var request = new HttpRequestMessage(HttpMethod.Get, $"/users/{User(3)}/explanations/{Item(5)}");
        request.Headers.Accept.ParseAdd("text/html");
        var html = await client.SendAsync(request);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", await html.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Interactions_AreQueued_AndValidated()
    {
        var client = await _factory.ReadyClient();
        var accepted = await client.PostAsJsonAsync("/interactions", new[] { new { userId = User(1), itemId = Item(3), timestamp = 10 } });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var bad = await client.PostAsJsonAsync("/interactions", new[] { new { userId = "ghost", itemId = Item(3), timestamp = 10 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await Json(bad)).GetProperty("errors").TryGetProperty("[0].userId", out _));
    }

    [Fact]
    public async Task Reload_NeedsTheApiKey()
    {
        var client = await _factory.ReadyClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/admin/reload", null)).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/admin/reload");
        wrong.Headers.Add("X-Api-Key", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
        var right = new HttpRequestMessage(HttpMethod.Post, "/admin/reload");
        right.Headers.Add("X-Api-Key", ServiceFactory.ApiKey);
        var response = await client.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await Json(response)).GetProperty("generation").GetInt64() >= 2);
    }

    [Fact]
    public async Task HotReload_DuringConcurrentRequests_FailsNoRequest()
    {
        var client = await _factory.ReadyClient();
        long before = (await Json(await client.GetAsync($"/users/{User(0)}/recommendations?k=3"))).GetProperty("generation").GetInt64();
        using var stop = new CancellationTokenSource();
        int requests = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var load = Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            int u = t;
            while (!stop.IsCancellationRequested)
            {
                var r = await client.GetAsync($"/users/{User(u++ % 40)}/recommendations?k=5");
                Interlocked.Increment(ref requests);
                if (!r.IsSuccessStatusCode) failures.Add($"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            }
        })).ToArray();
        // Two new saves of the served folder while requests run: the watcher swaps each in.
        for (int i = 0; i < 2; i++)
        {
            await Task.Delay(400);
            TestModel.Saved.Value.Recommender.Save(_factory.ModelFolder);
        }
        long after = before;
        for (int i = 0; i < 100 && after < before + 2; i++)
        {
            await Task.Delay(100);
            after = (await Json(await client.GetAsync($"/users/{User(0)}/recommendations?k=3"))).GetProperty("generation").GetInt64();
        }
        stop.Cancel();
        await Task.WhenAll(load);
        Assert.Empty(failures);
        Assert.True(requests > 50, $"{requests} requests");
        Assert.True(after >= before + 1, $"generation {before} → {after}");
    }

    [Fact]
    public async Task TheOpenApiDocument_AndTheHealthEndpoints_AreServed()
    {
        var client = await _factory.ReadyClient();
        var doc = await Json(await client.GetAsync("/openapi/v1.json"));
        Assert.True(doc.GetProperty("paths").TryGetProperty("/users/{id}/recommendations", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}

/// <summary>The sample service with a dynamic recommender: context-aware serving, and posted interactions learnt from in the background.</summary>
public sealed class DynamicServiceTests : IClassFixture<DynamicServiceTests.Factory>
{
    public sealed class Factory : WebApplicationFactoryWithDynamic;

    private readonly Factory _factory;

    public DynamicServiceTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task RequestsWithATime_AreReRanked_AndPostedInteractionsAreLearntFromWithoutBlocking()
    {
        var client = await _factory.ReadyClient();
        string user = TestModel.Saved.Value.Split.Train.Users.ToExternal(2);
        var first = JsonDocument.Parse(await client.GetStringAsync($"/users/{user}/recommendations?k=5&time=1700000000")).RootElement;
        Assert.Equal("dynamic", first.GetProperty("model").GetString());
        Assert.Equal(5, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("items")[0].GetProperty("probability").ValueKind);
        Assert.All(first.GetProperty("items").EnumerateArray(), i => Assert.Contains(i.GetProperty("keptForNewItem").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False }));
        long version = first.GetProperty("generation").GetInt64();

        var events = Enumerable.Range(0, 20).Select(i => new { userId = TestModel.Saved.Value.Split.Train.Users.ToExternal(i), itemId = TestModel.Saved.Value.Split.Train.Items.ToExternal(i + 1), timestamp = 1_700_000_100L + i }).ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var posted = await client.PostAsJsonAsync("/interactions", events);
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        long after = version;
        for (int i = 0; i < 300 && after == version; i++)
        {
            await Task.Delay(100);
            after = JsonDocument.Parse(await client.GetStringAsync($"/users/{user}/recommendations?k=5&time=1700000200")).RootElement.GetProperty("generation").GetInt64();
        }
        Assert.True(after > version, $"the dynamic snapshot stayed at {version}");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/users/{user}/recommendations?time=-5")).StatusCode);

        // Explanations of dynamic serving: one record with the first stage's layers and the second stage's.
        string item = first.GetProperty("items")[0].GetProperty("itemId").GetString()!;
        var why = JsonDocument.Parse(await client.GetStringAsync($"/users/{user}/explanations/{item}?time=1700000000")).RootElement;
        Assert.True(why.GetProperty("layerAttributions").TryGetProperty("context", out _));
        Assert.True(why.GetProperty("layerAttributions").TryGetProperty("behaviour", out _));
        Assert.Equal(JsonValueKind.Object, why.GetProperty("dynamic").ValueKind);
    }
}

/// <summary>The sample service over a model with concepts: a newcomer served from a description alone, and why.</summary>
public sealed class ConceptServiceTests(WebApplicationFactoryWithConcepts factory) : IClassFixture<WebApplicationFactoryWithConcepts>
{
    [Fact]
    public async Task ANewcomerKnownByADescription_GetsItsList_AndEachItemsExplanation()
    {
        var client = await factory.ReadyClient();
        foreach (var description in new[] { "likes mystery and adventure, dislikes romance", "喜欢悬疑电影，讨厌爱情电影" })
        {
            var posted = await client.PostAsJsonAsync("/recommendations", new { description, k = 3 });
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            var items = JsonDocument.Parse(await posted.Content.ReadAsStringAsync()).RootElement.GetProperty("items").EnumerateArray().ToArray();
            Assert.Equal(3, items.Length);
            for (int j = 0; j < items.Length; j++)
            {
                string item = items[j].GetProperty("itemId").GetString()!;
                var why = JsonDocument.Parse(await client.GetStringAsync($"/explanations/{item}?description={Uri.EscapeDataString(description)}")).RootElement;
                Assert.Equal(item, why.GetProperty("itemId").GetString());
                Assert.Equal(j + 1, why.GetProperty("rank").GetInt32());                       // the position the newcomer was shown
                Assert.Equal(items[j].GetProperty("score").GetSingle(), why.GetProperty("score").GetSingle(), 3);
                var parts = why.GetProperty("layerAttributions");
                // x_∅'s part, or the like-minded users' when calibration chose them; the description's own part always.
                Assert.True(parts.TryGetProperty("popular", out _) ^ parts.TryGetProperty("like-minded", out _));
                Assert.True(parts.TryGetProperty("concept", out _));
            }
            var request = new HttpRequestMessage(HttpMethod.Get, $"/explanations/{items[0].GetProperty("itemId").GetString()}?description={Uri.EscapeDataString(description)}");
            request.Headers.Accept.ParseAdd("text/html");
            var page = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
            Assert.Contains(description.Any(c => c >= '\u4E00') ? "<html lang=\"zh\">" : "<html lang=\"en\">", page);
        }
    }
}
