using HierRec.Ranking.Kernels;

namespace HierRec.Tests.Ranking.Kernels;

/// <summary>The vectorised exp and sum-of-exp the ranker's streaming log-sum-exp uses.</summary>
[Trait("Category", "Kernels")]
public class ExponentialTests
{

}
