// HierRec as an ASP.NET Core service: the saved recommender served from a pool that reloads it when it is saved again,
// recommendations for known and new users, explanations as JSON or as an HTML page, interactions queued for learning,
// health checks, OpenAPI, and metrics and traces under the name "HierRec".
//
//   dotnet run -c Release --project samples/HierRec.Samples.Service                  # fits (first run) or loads the synthetic model
//   dotnet run -c Release --project samples/HierRec.Samples.Service -- --model DIR   # serves a saved recommender
//
// Every endpoint except /admin/reload is open in this sample; put real authentication in front of it in production.
using System.Security.Cryptography;
using System.Text;
using HierRec;
using HierRec.Concepts;
using HierRec.Explanations;
using HierRec.Extensions;
using HierRec.Samples.Service;
using HierRec.Users;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;

var builder = WebApplication.CreateBuilder(args);
// A body that does not bind is a 400 naming the JSON path, never a bare "Bad Request" (or a 500).
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
{
    switch (ctx.HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error)
    {
        case BadHttpRequestException bad:
            var json = bad.InnerException as JsonException;
            ctx.ProblemDetails.Title = "The request is not valid";
            ctx.ProblemDetails.Detail = json?.Path is { } path ? $"The body is not valid at {path}." : bad.Message;
            if (json?.Path is { } field) ctx.ProblemDetails.Extensions["field"] = field;
            break;
        case KeyNotFoundException or ArgumentException:
            ctx.ProblemDetails.Detail = ctx.HttpContext.Features.Get<IExceptionHandlerFeature>()!.Error.Message;
            break;
    }
});
builder.Services.AddOpenApi();
var hierrec = builder.Services.AddHierRec(builder.Configuration.GetSection(HierRecOptions.Section));
if (!builder.Configuration.GetSection("HierRec:Models").GetChildren().Any())
{
    // No model configured: --model DIR, or the synthetic model (fitted and saved on the first run).
    using var bootstrap = LoggerFactory.Create(b => b.AddConsole());
    string folder = builder.Configuration["model"]
        ?? SampleModel.EnsureSynthetic(Path.Combine(Path.GetTempPath(), "hierrec-service", "synthetic"), bootstrap.CreateLogger("HierRec.Samples.Service"));
    hierrec.FromFolder("default", folder, watchForChanges: true);
}
builder.Services.AddHealthChecks().AddHierRec();
builder.Services.AddSingleton<InteractionQueue>();
// --dynamic DIR: a saved DynamicRecommender serves requests that carry a time, and learns from posted interactions.
builder.Services.AddSingleton(_ => new DynamicModel(builder.Configuration["dynamic"] is { } dynamicFolder ? HierRec.Items.DynamicRecommender.Load(dynamicFolder) : null));
builder.Services.AddHostedService<InteractionWorker>();

var app = builder.Build();
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = error => error switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        KeyNotFoundException => StatusCodes.Status404NotFound,
        ArgumentException => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    },
});
app.UseStatusCodePages();
// Rejected requests are logged (at Information: they are the client's mistakes, not the service's).
app.Use(async (context, next) =>
{
    await next(context);
    if (context.Response.StatusCode is >= 400 and < 500)
        RequestLog.Rejected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("HierRec.Samples.Service"),
            context.Request.Method, context.Request.Path, context.Response.StatusCode);
});
app.MapOpenApi();
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });

const int MaxK = 1000;

// GET /users/{id}/recommendations?k=10&description=likes+mystery&time=1700000000: a known user's top k, optionally
// steered and filtered by their own description (models saved with a concept model), or, with a request time and a
// dynamic recommender, re-ranked by the dynamic item representations in that context.
app.MapGet("/users/{id}/recommendations", Results<Ok<RecommendationsResponse>, ValidationProblem, ProblemHttpResult> (string id, RecommenderPool pool, DynamicModel dynamic, int? k, string? description, long? time) =>
{
    if (Check(k, description) is { } invalid) return invalid;
    if (time is long seconds)
    {
        if (dynamic.Recommender is not { } dyn) return TypedResults.Problem("This service runs without a dynamic recommender (start it with --dynamic DIR).", statusCode: 400, title: "time is not supported");
        if (seconds < 0 || seconds > 253_402_300_799) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["time"] = ["time must be Unix seconds between 1970 and 9999."] });
        if (description is not null) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = ["description and time cannot be combined: descriptions steer the hierarchical model."] });
        if (!dyn.Base.HasUser(id)) return TypedResults.Problem($"Unknown user '{id}'.", statusCode: 404, title: "Unknown user");
        var ranked = dyn.Recommend(id, HierRec.Items.RequestContext.AtUnixTime(seconds), k ?? 10);
        return TypedResults.Ok(new RecommendationsResponse("dynamic", dyn.Version, ranked.Select(r => new RecommendedItem(r.ItemId, r.Score, null, r.KeptForNewItem)).ToArray()));
    }
    using var lease = pool.TryRent(); // holds this version until the response is written, whatever reloads happen meanwhile
    if (lease is null) return NotReady();
    var model = lease.Recommender;
    if (!KnownUser(model, id)) return TypedResults.Problem($"Unknown user '{id}'.", statusCode: 404, title: "Unknown user");
    if (description is not null && model.Concepts is null) return NoConcepts();
    var items = description is null ? model.Recommend(id, k ?? 10) : model.Recommend(id, description, k ?? 10);
    return TypedResults.Ok(Response(lease.Info, items));
}).WithName("RecommendForUser");

// POST /recommendations: a user outside the training data, from a profile, friends (known users), recent items and/or a description.
app.MapPost("/recommendations", Results<Ok<RecommendationsResponse>, ValidationProblem, ProblemHttpResult> (NewUserRequest request, RecommenderPool pool) =>
{
    if (Check(request.K, request.Description) is { } invalid) return invalid;
    using var lease = pool.TryRent(); // holds this version until the response is written, whatever reloads happen meanwhile
    if (lease is null) return NotReady();
    var model = lease.Recommender;
    var errors = new Dictionary<string, string[]>();
    var friends = request.Friends ?? [];
    var recent = request.RecentItems ?? [];
    for (int i = 0; i < friends.Count; i++) if (friends[i] is null || !KnownUser(model, friends[i])) errors[$"friends[{i}]"] = [$"'{friends[i]}' is not a known user."];
    for (int i = 0; i < recent.Count; i++) if (recent[i] is null || !model.HasItem(recent[i])) errors[$"recentItems[{i}]"] = [$"'{recent[i]}' is not an item of the catalogue."];
    if (request.Numeric is { } numbers) foreach (var (field, v) in numbers) if (!float.IsFinite(v)) errors[$"numeric.{field}"] = ["must be a finite number."];
    if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
    if (request.Description is not null && model.Concepts is null) return NoConcepts();
    var profile = new UserProfile(request.Categorical ?? [], request.Numeric ?? []);
    bool nothingElse = friends.Count == 0 && recent.Count == 0 && request.Categorical is not { Count: > 0 } && request.Numeric is not { Count: > 0 };
    var items = request.Description is not null && nothingElse
        ? model.RecommendFromDescription(request.Description, request.K)
        : model.RecommendForNewUser(profile, friends, recent, request.K);
    return TypedResults.Ok(Response(lease.Info, items));
}).WithName("RecommendForNewUser");

// GET /users/{id}/explanations/{itemId}: why; JSON, or the self-contained HTML page with Accept: text/html.
app.MapGet("/users/{id}/explanations/{itemId}", IResult (string id, string itemId, HttpRequest http, RecommenderPool pool, DynamicModel dynamic, string? description, long? time) =>
{
    if (Check(null, description) is { } invalid) return invalid;
    using var lease = pool.TryRent(); // holds this version until the response is written, whatever reloads happen meanwhile
    if (lease is null) return NotReady();
    var model = lease.Recommender;
    if (time is not null && dynamic.Recommender is null) return TypedResults.Problem("This service runs without a dynamic recommender (start it with --dynamic DIR).", statusCode: 400, title: "time is not supported");
    if (time is not null && description is not null) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = ["description and time cannot be combined."] });
    if (time is < 0 or > 253_402_300_799) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["time"] = ["time must be Unix seconds between 1970 and 9999."] });
    if (time is not null) model = dynamic.Recommender!.Base;
    if (!KnownUser(model, id)) return TypedResults.Problem($"Unknown user '{id}'.", statusCode: 404, title: "Unknown user");
    if (!model.HasItem(itemId)) return TypedResults.Problem($"Unknown item '{itemId}'.", statusCode: 404, title: "Unknown item");
    if (description is not null && model.Concepts is null) return NoConcepts();
    // With a time and a dynamic recommender: one record of both stages (context and item dynamics included).
    var why = time is long seconds ? dynamic.Recommender!.Explain(id, itemId, HierRec.Items.RequestContext.AtUnixTime(seconds)) : model.Explain(id, itemId, description);
    bool html = http.Headers.Accept.Any(a => a is not null && a.Contains("text/html", StringComparison.OrdinalIgnoreCase));
    return html
        ? TypedResults.Content(ExplanationText.ToHtml($"Why {itemId} for {id}", [why]), "text/html; charset=utf-8", Encoding.UTF8)
        : TypedResults.Ok(why);
}).WithName("Explain");

// GET /explanations/{itemId}?description=…: why a newcomer known only by that description (POST /recommendations with a
// description alone) is shown the item; JSON, or the HTML page with Accept: text/html.
app.MapGet("/explanations/{itemId}", IResult (string itemId, HttpRequest http, RecommenderPool pool, string? description) =>
{
    if (Check(null, description) is { } invalid) return invalid;
    if (string.IsNullOrWhiteSpace(description)) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["description"] = ["a description is required."] });
    using var lease = pool.TryRent(); // holds this version until the response is written, whatever reloads happen meanwhile
    if (lease is null) return NotReady();
    var model = lease.Recommender;
    if (!model.HasItem(itemId)) return TypedResults.Problem($"Unknown item '{itemId}'.", statusCode: 404, title: "Unknown item");
    if (model.Concepts is null) return NoConcepts();
    var why = model.ExplainFromDescription(description, itemId);
    bool html = http.Headers.Accept.Any(a => a is not null && a.Contains("text/html", StringComparison.OrdinalIgnoreCase));
    return html
        ? TypedResults.Content(ExplanationText.ToHtml($"Why {itemId} for \"{description}\"", [why]), "text/html; charset=utf-8", Encoding.UTF8)
        : TypedResults.Ok(why);
}).WithName("ExplainForDescription");

// POST /interactions: observed events, queued for the background learner (the dynamic recommender's Update, when the
// service has one); the request never waits for learning.
app.MapPost("/interactions", Results<Accepted<InteractionsAccepted>, ValidationProblem, ProblemHttpResult> (IReadOnlyList<InteractionEvent> events, InteractionQueue queue, RecommenderPool pool) =>
{
    using var lease = pool.TryRent(); // holds this version until the response is written, whatever reloads happen meanwhile
    if (lease is null) return NotReady();
    var model = lease.Recommender;
    if (events.Count > 10_000) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["events"] = ["at most 10,000 events per request."] });
    var errors = new Dictionary<string, string[]>();
    for (int i = 0; i < events.Count; i++)
    {
        if (events[i] is null) { errors[$"[{i}]"] = ["is null."]; continue; }
        if (events[i].UserId is null || !KnownUser(model, events[i].UserId)) errors[$"[{i}].userId"] = [$"'{events[i].UserId}' is not a known user."];
        if (events[i].ItemId is null || !model.HasItem(events[i].ItemId)) errors[$"[{i}].itemId"] = [$"'{events[i].ItemId}' is not an item of the catalogue."];
    }
    if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
    int accepted = events.Count(queue.TryAdd);
    if (accepted < events.Count) return TypedResults.Problem($"The queue is full; {accepted} of {events.Count} events were accepted.", statusCode: 503, title: "Busy");
    return TypedResults.Accepted("/interactions", new InteractionsAccepted(accepted, queue.Pending));
}).WithName("ObserveInteractions");

// POST /admin/reload (header X-Api-Key): load the model folder again now and swap it in.
app.MapPost("/admin/reload", async Task<Results<Ok<RecommenderModelInfo>, ProblemHttpResult>> (HttpRequest http, RecommenderPool pool, IConfiguration config) =>
{
    string key = config["Admin:ApiKey"] ?? "";
    if (key.Length == 0) return TypedResults.Problem("Set Admin:ApiKey to enable /admin/reload.", statusCode: 403, title: "Admin disabled");
    string given = http.Headers["X-Api-Key"].ToString();
    if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key)))
        return TypedResults.Problem("A valid X-Api-Key header is required.", statusCode: 401, title: "Unauthorized");
    if (!await pool.ReloadAsync(cancellationToken: http.HttpContext.RequestAborted))
        return TypedResults.Problem($"The reload failed ({pool.Info()?.LastError}); the previous version keeps serving.", statusCode: 409, title: "Reload failed");
    return TypedResults.Ok(pool.Info()!);
}).WithName("Reload");

app.Run();

static ValidationProblem? Check(int? k, string? description)
{
    var errors = new Dictionary<string, string[]>();
    if (k is int value && (value < 1 || value > MaxK)) errors["k"] = [$"k must be in [1, {MaxK}]; got {value}."];
    if (description is not null && description.Length > DescriptionParser.MaxDescriptionLength)
        errors["description"] = [$"description has {description.Length} characters; the limit is {DescriptionParser.MaxDescriptionLength}."];
    return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
}

static bool KnownUser(HierarchicalRecommender model, string id) => model.HasUser(id);

static ProblemHttpResult NotReady() => TypedResults.Problem("The model is still loading.", statusCode: 503, title: "Not ready");

static ProblemHttpResult NoConcepts() =>
    TypedResults.Problem("This model was saved without a concept model, so it cannot read descriptions.", statusCode: 400, title: "description is not supported");

static RecommendationsResponse Response(RecommenderModelInfo served, IReadOnlyList<Recommendation> items) =>
    new(served.Name, served.Generation, items.Select(r => new RecommendedItem(r.ItemId, r.Score, r.Probability)).ToArray());

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;

internal static partial class RequestLog
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Rejected {Method} {Path}: {Status}")]
    public static partial void Rejected(ILogger logger, string method, string path, int status);
}
