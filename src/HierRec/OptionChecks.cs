namespace HierRec;

/// <summary>Range checks of options at the public entry points: the error names the option, its range and the value.</summary>
internal static class OptionChecks
{
    public static void Range(string option, int value, int min, int max = int.MaxValue)
    {
        if (value < min || value > max) throw new ArgumentOutOfRangeException(option, value, $"{option} must be in [{min}, {(max == int.MaxValue ? "∞" : max.ToString(System.Globalization.CultureInfo.InvariantCulture))}]; got {value}.");
    }

    /// <summary>A finite value in [min, max] (or (min, max] when <paramref name="minExclusive"/>).</summary>
    public static void Range(string option, double value, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        bool ok = double.IsFinite(value) && (minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max);
        if (!ok)
            throw new ArgumentOutOfRangeException(option, value, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{option} must be a finite number in {(minExclusive ? "(" : "[")}{min}, {(double.IsPositiveInfinity(max) || max == double.MaxValue ? "∞" : max)}{(maxExclusive ? ")" : "]")}; got {value}."));
    }

    public static void Defined<TEnum>(string option, TEnum value) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(option, value, $"{option} is not a defined {typeof(TEnum).Name} ({string.Join(", ", Enum.GetNames<TEnum>())}).");
    }

    public static void NotNull(string option, object? value)
    {
        if (value is null) throw new ArgumentNullException(option, $"{option} must not be null.");
    }
}
