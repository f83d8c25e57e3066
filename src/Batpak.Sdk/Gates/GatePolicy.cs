namespace Batpak;

/// <summary>How a <see cref="GateSet{TContext}"/> evaluates its gates.</summary>
public enum GatePolicy
{
    /// <summary>Stop at the first denial; later gates are not called. The default: cheapest when gates are costly.</summary>
    FailFast = 0,

    /// <summary>Call every gate and report every denial, in gate order: best when a caller should see all problems at once.</summary>
    EvaluateAll = 1,
}
