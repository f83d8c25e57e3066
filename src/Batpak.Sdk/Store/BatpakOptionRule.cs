namespace Batpak;

/// <summary>
/// One row of <see cref="BatpakOptionRules"/>: a <see cref="BatpakOptions"/> setting's name, its valid range and how it
/// is written in configuration. The store's constructor, the DI validator and the configuration binder all ask a rule;
/// none of them keeps a rule of its own.
/// </summary>
internal abstract class BatpakOptionRule(string name, string valid, string format)
{
    /// <summary>The property name, which is also the configuration key.</summary>
    public string Name { get; } = name;

    /// <summary>The valid values, as the property's XML doc and the README state them (for example <c>1 to 8192</c>).</summary>
    public string Valid { get; } = valid;

    /// <summary>How a value is written in configuration (for example <c>an integer</c>).</summary>
    public string Format { get; } = format;

    /// <summary><see langword="true"/> when a value must never appear in a message (only its length may).</summary>
    public bool IsSecret { get; init; }

    /// <summary><see langword="true"/> when configuration may also give the value as an array section (one item per child).</summary>
    public bool IsList { get; init; }

    /// <summary>The failure text (naming the setting and the bad value) when the setting in <paramref name="options"/> is invalid; otherwise null.</summary>
    public abstract string? Check(BatpakOptions options);

    /// <summary>Parses <paramref name="text"/> (the configuration form) and stores it in <paramref name="options"/>; false, changing nothing, when it does not parse.</summary>
    public abstract bool TryBind(BatpakOptions options, string text);

    /// <summary>The exception the store's constructor throws for <paramref name="failure"/>: <see cref="ArgumentOutOfRangeException"/> for a value out of its range, <see cref="ArgumentException"/> for a malformed one; the parameter name is the setting.</summary>
    public abstract ArgumentException ToException(string failure);
}

/// <summary>A <see cref="BatpakOptionRule"/> over a setting of type <typeparamref name="T"/>.</summary>
internal sealed class BatpakOptionRule<T> : BatpakOptionRule
{
    private readonly Func<BatpakOptions, T> _get;
    private readonly Action<BatpakOptions, T> _set;
    private readonly Func<T, bool> _isValid;
    private readonly Func<T, string> _failure;
    private readonly TryParse _parse;
    private readonly bool _outOfRange;

    /// <param name="name">The property name.</param>
    /// <param name="valid">The valid values, in words.</param>
    /// <param name="format">The configuration form, in words.</param>
    /// <param name="get">Reads the setting.</param>
    /// <param name="set">Stores a bound value (a set setting adds to what is there).</param>
    /// <param name="isValid">The range check.</param>
    /// <param name="parse">Parses the configuration form.</param>
    /// <param name="show">Shows a bad value in a message (a secret's length, never its value).</param>
    /// <param name="outOfRange">Whether a bad value is out of a range (<see cref="ArgumentOutOfRangeException"/>) or malformed (<see cref="ArgumentException"/>).</param>
    /// <param name="failure">A message of its own for a bad value; by default <c>BatpakOptions.{name} must be {valid}; got {shown}.</c></param>
    public BatpakOptionRule(
        string name,
        string valid,
        string format,
        Func<BatpakOptions, T> get,
        Action<BatpakOptions, T> set,
        Func<T, bool> isValid,
        TryParse parse,
        Func<T, string> show,
        bool outOfRange = true,
        Func<T, string>? failure = null)
        : base(name, valid, format)
    {
        _get = get;
        _set = set;
        _isValid = isValid;
        _parse = parse;
        _outOfRange = outOfRange;
        _failure = failure ?? (value => $"BatpakOptions.{name} must be {valid}; got {show(value)}.");
    }

    /// <summary>Parses the configuration form of a value.</summary>
    public delegate bool TryParse(string text, out T value);

    public override string? Check(BatpakOptions options)
    {
        T value = _get(options);
        return _isValid(value) ? null : _failure(value);
    }

    public override bool TryBind(BatpakOptions options, string text)
    {
        if (!_parse(text, out T value))
        {
            return false;
        }

        _set(options, value);
        return true;
    }

    public override ArgumentException ToException(string failure) =>
        _outOfRange ? new ArgumentOutOfRangeException(Name, failure) : new ArgumentException(failure, Name);
}
