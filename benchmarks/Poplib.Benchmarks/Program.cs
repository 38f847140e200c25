using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Poplib.Benchmarks;

// `--smoke`: run every benchmark once per parameter value, check what it returns, time nothing.
// Anything else goes to BenchmarkDotNet (e.g. `--filter '*'`, `--job short`).
if (args.Contains("--smoke"))
    return Smoke.Run(Console.Out);

var config = DefaultConfig.Instance.AddColumn(new ThroughputColumn());
BenchmarkSwitcher.FromAssembly(typeof(FramingBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
return 0;

/// <summary>The CI smoke run: each benchmark once, down each parameter value, its result checked.</summary>
internal static class Smoke
{
    public static int Run(TextWriter output)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        int ran = 0;
        var failures = new List<string>();
        foreach (bool async in new[] { false, true })
        {
            var benchmarks = new FramingBenchmarks { Async = async };
            foreach (MethodInfo method in typeof(FramingBenchmarks).GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            {
                string name = $"{method.Name}(Async={async})";
                try
                {
                    long got = ((Task<long>)method.Invoke(benchmarks, null)!).GetAwaiter().GetResult();
                    long expected = FramingBenchmarks.Expectation(method.Name).Expected;
                    if (got != expected)
                        failures.Add($"{name}: returned {got} bytes, expected {expected}");
                }
                catch (TargetInvocationException e)
                {
                    failures.Add($"{name}: {e.InnerException?.GetType().Name}: {e.InnerException?.Message}");
                }

                ran++;
            }
        }

        foreach (string failure in failures)
            output.WriteLine($"benchmark smoke FAILED {failure}");
        output.WriteLine($"benchmark smoke: {ran - failures.Count} of {ran} benchmarks ran and returned the expected bytes in {started.Elapsed.TotalSeconds:0.0} s (no timing)");
        return failures.Count == 0 ? 0 : 1;
    }
}
