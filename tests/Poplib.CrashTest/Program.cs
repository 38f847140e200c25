using Poplib.CrashTest;
using Poplib.CrashTest.Fleet;

// The crash test of `poplib fetch` (see CrashTest.cs) and of a fleet of workers sharing PostgreSQL (--fleet, see
// Fleet/FleetTest.cs). Prints `seed: N` first so that any run can be replayed, a line per run with --verbose, the details
// of anything lost, duplicated or corrupt, and ends with the summary line; exit status 0 only if nothing was.
if (args.Length > 0 && args[0] == FleetWorkerChild.Flag)
    return await FleetWorkerChild.RunAsync(args);

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
return options.Fleet is { } fleet
    ? await new FleetTest(options, fleet, Console.Out).RunAsync() ? 0 : 1
    : await new CrashTest(options, Console.Out).RunAsync() ? 0 : 1;
