using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace HierRec.Benchmarks.Service;

/// <summary>
/// <c>-- load URL MODEL_FOLDER [seconds]</c>: a bounded load test of the sample service on loopback. For concurrency 1,
/// 8 and 32, that many clients send <c>GET /users/{id}/recommendations?k=10</c> back to back for the given time (30 s
/// by default), cycling through the model's users (ids read from MODEL_FOLDER/recommender.json); it reports requests
/// per second, p50 and p99 latency as the client sees it, and errors (any non-200 or exception).
/// </summary>
public static class LoadTest
{
    public static async Task Run(TextWriter output, string url, string modelFolder, int seconds)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(modelFolder, "recommender.json")));
        var users = doc.RootElement.GetProperty("UserIds").EnumerateArray().Select(u => u.GetString()!).ToArray();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        // Warm-up: every user once (the service caches known users' vectors), outside the timed runs.
        foreach (var u in users) (await client.GetAsync($"/users/{Uri.EscapeDataString(u)}/recommendations?k=10")).EnsureSuccessStatusCode();
        output.WriteLine($"| users | concurrency | seconds | requests | requests/s | p50 ms | p99 ms | errors |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int concurrency in new[] { 1, 8, 32 })
        {
            var latencies = new List<double>[concurrency];
            long errors = 0;
            var stop = Stopwatch.StartNew();
            var until = TimeSpan.FromSeconds(seconds);
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
            {
                var mine = latencies[c] = new List<double>(100_000);
                int next = c * 7919;
                while (stop.Elapsed < until)
                {
                    string user = users[next++ % users.Length];
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await client.GetAsync($"/users/{Uri.EscapeDataString(user)}/recommendations?k=10");
                        await response.Content.ReadAsByteArrayAsync();
                        if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            })));
            double wall = stop.Elapsed.TotalSeconds;
            var all = latencies.SelectMany(l => l).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {users.Length} | {concurrency} | {wall:F0} | {all.Length} | {all.Length / wall:F0} | {all[all.Length / 2]:F2} | {all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]:F2} | {errors} |"));
            output.Flush();
        }
    }
}
