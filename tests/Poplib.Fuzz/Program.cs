using System.Diagnostics;
using SharpFuzz;

namespace Poplib.Fuzz;

/// <summary>
/// The fuzzing harness (docs/fuzzing.md). Modes:
///   (none)                    under AFL++ (scripts/fuzz.sh): SharpFuzz's persistent fork server, one session per input
///   --replay PATH…            every file under the paths once, uninstrumented; exit 1 if any broke an invariant
///   --show FILE               one input: the client's debug transcript (level 2) and what broke, if anything
///   --bench PATH… --seconds N the corpus round and round for N seconds; prints executions per second
///   --write-seeds DIR         writes the seed corpus (tests/Poplib.Fuzz/corpus)
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            var harness = new Harness();
            byte[] buffer = new byte[FuzzInput.HeaderLength + FuzzInput.MaxServerBytes];
            Fuzzer.Run(stream =>
            {
                int length = 0;
                int read;
                while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
                    length += read;
                harness.Run(buffer, length);
            });
            return 0;
        }

        return args[0] switch
        {
            "--replay" => Replay(args[1..]),
            "--show" => Show(args[1]),
            "--bench" => Bench(args[1..]),
            "--write-seeds" => Seeds.Write(args[1]),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Poplib.Fuzz [--replay PATH... | --show FILE | --bench PATH... --seconds N | --write-seeds DIR]");
        return 2;
    }

    private static List<string> Files(IEnumerable<string> paths) =>
        paths.SelectMany(path => Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
                : [path])
            .Order(StringComparer.Ordinal)
            .ToList();

    private static int Replay(string[] paths)
    {
        var harness = new Harness();
        List<string> files = Files(paths);
        var started = Stopwatch.StartNew();
        int failed = 0;
        foreach (string file in files)
        {
            byte[] data = File.ReadAllBytes(file);
            try
            {
                harness.Run(data, data.Length);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"FAILED {file}: {e}");
            }
        }

        Console.WriteLine($"replay: {files.Count} inputs, {failed} failed, {started.Elapsed.TotalSeconds:0.0} s");
        return failed == 0 && files.Count > 0 ? 0 : 1;
    }

    private static int Show(string file)
    {
        byte[] data = File.ReadAllBytes(file);
        var input = new FuzzInput(data, data.Length);
        Console.WriteLine($"scenario {input.Scenario}, variant {input.Variant}, {(input.Async ? "async" : "sync")}, parameters {input.First} {input.Second}, {input.Server.Length} server octets");
        var harness = new Harness();
        int status = 0;
        try
        {
            harness.Run(data, data.Length);
        }
        catch (Exception e)
        {
            Console.WriteLine($"FAILED: {e}");
            status = 1;
        }

        Console.Write(harness.Transcript);
        return status;
    }

    private static int Bench(string[] args)
    {
        int at = Array.IndexOf(args, "--seconds");
        double seconds = at >= 0 ? double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        List<byte[]> inputs = Files(at >= 0 ? args[..at] : args).Select(File.ReadAllBytes).ToList();
        var harness = new Harness();
        var started = Stopwatch.StartNew();
        long executions = 0;
        while (started.Elapsed.TotalSeconds < seconds)
        {
            byte[] data = inputs[(int)(executions % inputs.Count)];
            try
            {
                harness.Run(data, data.Length);
            }
            catch (InvariantException)
            {
            }

            executions++;
        }

        Console.WriteLine($"bench: {executions} executions in {started.Elapsed.TotalSeconds:0.0} s, {executions / started.Elapsed.TotalSeconds:0} per second");
        return 0;
    }
}

/// <summary>Runs one input: a loopback server that sends its bytes, a session that checks the client.</summary>
internal sealed class Harness
{
    // Nothing may take this long with the whole input in memory and the server's FIN behind it.
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    private readonly LoopbackServer _server = new();
    private readonly Outputs _outputs = new();
    private readonly Timer _watchdog;
    private long _started = long.MaxValue;

    public Harness() => _watchdog = new Timer(_ => Watch(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    /// <summary>The last session's debug output.</summary>
    public string Transcript => _outputs.DebugWriter.ToString();

    public void Run(byte[] data, int length)
    {
        var input = new FuzzInput(data, length);
        _outputs.Reset();
        _server.Begin(input.Server);
        Volatile.Write(ref _started, Stopwatch.GetTimestamp());
        try
        {
            new Session(input, _outputs, _server.Port).Run();
        }
        finally
        {
            Volatile.Write(ref _started, long.MaxValue);
        }
    }

    // A session that never ends is a finding: crash, so that AFL++ and the replay both see it.
    private void Watch()
    {
        long started = Volatile.Read(ref _started);
        if (started != long.MaxValue && Stopwatch.GetElapsedTime(started) > Hang)
            Environment.FailFast($"A session has run for more than {Hang.TotalSeconds} s: the client hangs.");
    }
}
