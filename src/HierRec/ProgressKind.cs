namespace HierRec;

/// <summary>What a progress report is about.</summary>
public enum ProgressKind
{
    /// <summary>A phase began (pre-training BERT, encoding item texts, solving, …): <see cref="TrainingProgress.Message"/> says which.</summary>
    Phase,

    /// <summary>An optimizer step finished: the loss is that step's.</summary>
    Step,

    /// <summary>An epoch finished: the loss is the epoch's mean, with the validation metric when there is validation.</summary>
    Epoch,
}
