using Microsoft.Extensions.Options;

namespace HierRec.Extensions;

/// <summary>Start-up validation of <see cref="HierRecOptions"/> (registered with ValidateOnStart).</summary>
internal sealed class HierRecOptionsValidator : IValidateOptions<HierRecOptions>
{
    public ValidateOptionsResult Validate(string? name, HierRecOptions options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
