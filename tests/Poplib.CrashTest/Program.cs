using Poplib.CrashTest;

// The crash test of `poplib fetch` (see CrashTest.cs). Prints `seed: N` first so that any run can be
// replayed, a line per run with --verbose, the details of anything lost, duplicated or corrupt, and
// ends with the summary line; exit status 0 only if nothing was.
CrashTestOptions options;
try
{
    options = CrashTestOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine(CrashTestOptions.Usage);
    return 2;
}

Console.WriteLine($"seed: {options.Seed}");
return await new CrashTest(options, Console.Out).RunAsync() ? 0 : 1;
