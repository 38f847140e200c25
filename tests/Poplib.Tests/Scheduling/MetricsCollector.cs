using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Poplib.Tests.Scheduling;

/// <summary>One measurement a <see cref="MeterListener"/> received.</summary>
internal sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string name) => Tags.TryGetValue(name, out object? value) ? value?.ToString() : null;
}

/// <summary>Collects every measurement of one <see cref="Meter"/> instance (not others of the same name in parallel tests).</summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measured> _measurements = new();

    public MetricsCollector(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measured> All => [.. _measurements];

    public IEnumerable<Measured> Of(string instrument) => _measurements.Where(m => m.Instrument == instrument);

    public double Sum(string instrument, Func<Measured, bool>? where = null) =>
        Of(instrument).Where(where ?? (_ => true)).Sum(m => m.Value);

    /// <summary>Polls the observable instruments; returns what they reported.</summary>
    public IReadOnlyList<Measured> Observe(string instrument)
    {
        int before = _measurements.Count(m => m.Instrument == instrument);
        _listener.RecordObservableInstruments();
        return [.. Of(instrument).Skip(before)];
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in tags)
            dictionary[tag.Key] = tag.Value;
        _measurements.Enqueue(new Measured(instrument.Name, value, dictionary));
    }

    public void Dispose() => _listener.Dispose();
}
