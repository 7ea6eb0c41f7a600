namespace HierRec.Training;

/// <summary>Linear warm-up to a peak rate, then linear decay to zero at the last step (BERT's schedule), or a constant rate after warm-up.</summary>
public sealed class LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Warm-up is negative or longer than training, or training is empty.</exception>
    public LearningRateSchedule(double peak, long warmupSteps, long totalSteps, bool decay = true)
    {
        Decay = decay;
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (warmupSteps > totalSteps) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warm-up is longer than training.");
        if (!(peak > 0) || !double.IsFinite(peak)) throw new ArgumentOutOfRangeException(nameof(peak), peak, "The peak learning rate must be positive and finite.");
        Peak = peak;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    /// <summary>Rate at the end of warm-up.</summary>
    public double Peak { get; }

    /// <summary>Steps of linear warm-up.</summary>
    public long WarmupSteps { get; }

    /// <summary>Whether the rate decays linearly to zero after warm-up (false: it stays at <see cref="Peak"/>).</summary>
    public bool Decay { get; }

    /// <summary>Steps in all.</summary>
    public long TotalSteps { get; }

    /// <summary>The rate of 0-based step <paramref name="step"/>: Peak·(s+1)/W during warm-up, then Peak·(T−s)/(T−W).</summary>
    public double RateAt(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (!Decay) return Peak;
        if (step >= TotalSteps) return 0;
        return Peak * (TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps);
    }
}
