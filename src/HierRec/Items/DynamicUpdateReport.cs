namespace HierRec.Items;

/// <summary>What an <see cref="DynamicRecommender.Update"/> did.</summary>
/// <param name="NewExamples">Interactions learnt from.</param>
/// <param name="ReplayedExamples">Older examples replayed with them.</param>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="MeanLoss">Mean training loss.</param>
/// <param name="Version">The parameter snapshot now served.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record DynamicUpdateReport(int NewExamples, int ReplayedExamples, int Steps, double MeanLoss, long Version, TimeSpan Elapsed);
