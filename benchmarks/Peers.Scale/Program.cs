// benchmarks/scale's peer, in two roles (two processes, so the client's memory is measured alone):
//
//   Peers.Scale serve SESSIONS MESSAGES SIZE
//       Poplib.Testing's in-memory server on 127.0.0.1 (no TLS, MaxConnections = SESSIONS + 16) with
//       users u1 … uSESSIONS, each with its own mailbox of MESSAGES messages of SIZE bytes. Prints
//       "port N" once it listens; exits when its standard input closes (then prints its own errors).
//   Peers.Scale client PORT SESSIONS
//       SESSIONS concurrent Poplib sessions (async), each: connect, USER/PASS as its own user, wait
//       until every session has logged in (or failed), LIST, RetrManyAsync into Stream.Null, QUIT.
//       Prints one JSON line: sessions, ok, failed, messages, bytes, login_seconds (until the last
//       login), seconds (first connect to last QUIT), vmhwm_kb (this process's peak RSS), first_error.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Poplib;
using Poplib.Testing;

if (args.Length >= 1 && args[0] == "serve" && args.Length == 4)
    return await ServeAsync(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
if (args.Length >= 1 && args[0] == "client" && args.Length == 3)
    return await ClientAsync(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
Console.Error.WriteLine("usage: Peers.Scale serve SESSIONS MESSAGES SIZE | client PORT SESSIONS");
return 2;

static async Task<int> ServeAsync(int sessions, int messages, int size)
{
    await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
    {
        Tls = Pop3TlsMode.None,
        MaxConnections = sessions + 16,
    });
    for (int u = 1; u <= sessions; u++)
    {
        var bodies = new List<byte[]>(messages);
        for (int m = 1; m <= messages; m++)
            bodies.Add(Message(u, m, size));
        server.AddUser("u" + u.ToString(CultureInfo.InvariantCulture), "pw", Pop3Mailbox.FromMessages(bodies));
    }

    Console.WriteLine($"port {server.Port}");
    Console.Out.Flush();
    await Console.In.ReadToEndAsync();
    foreach (Exception e in server.Errors.Take(5))
        Console.Error.WriteLine($"server error: {e.GetType().Name}: {e.Message}");
    return server.Errors.Count == 0 ? 0 : 1;
}

// A message of exactly SIZE bytes: a few headers, then 76-character CRLF lines.
static byte[] Message(int user, int number, int size)
{
    var text = new StringBuilder();
    text.Append(CultureInfo.InvariantCulture, $"From: a@example.org\r\nTo: u{user}@example.org\r\nSubject: message {number}\r\n\r\n");
    for (int left = size - text.Length; left >= 2; left = size - text.Length)
        text.Append('x', left == 77 ? 73 : Math.Min(74, left - 2)).Append("\r\n"); // never leaves 1 byte over
    byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
    return bytes.Length == size ? bytes : throw new ArgumentException($"cannot make a message of {size} bytes");
}

static async Task<int> ClientAsync(int port, int sessions)
{
    var options = new Pop3ClientOptions { AllowInsecureAuthentication = true, Timeout = TimeSpan.FromMinutes(2) };
    int loginsDone = 0, ok = 0;
    long messages = 0, bytes = 0, loginTicks = 0;
    string? firstError = null;
    var allLoggedIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var clock = Stopwatch.StartNew();

    void LoginDone()
    {
        if (Interlocked.Increment(ref loginsDone) == sessions)
        {
            Interlocked.Exchange(ref loginTicks, clock.Elapsed.Ticks);
            allLoggedIn.SetResult();
        }
    }

    async Task Session(int u)
    {
        bool counted = false;
        try
        {
            await using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", port, options);
            await client.UserAsync("u" + u.ToString(CultureInfo.InvariantCulture));
            await client.PassAsync("pw");
            counted = true;
            LoginDone();
            await allLoggedIn.Task;
            IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync();
            long n = 0, b = 0;
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(listing))
            {
                await message.Content.CopyToAsync(Stream.Null);
                b += message.Content.Position;
                n++;
            }

            await client.QuitAsync();
            Interlocked.Add(ref messages, n);
            Interlocked.Add(ref bytes, b);
            Interlocked.Increment(ref ok);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref firstError, $"session {u}: {e.GetType().Name}: {e.Message}", null);
            if (!counted)
                LoginDone();
        }
    }

    var tasks = new Task[sessions];
    for (int u = 1; u <= sessions; u++)
        tasks[u - 1] = Session(u);
    await Task.WhenAll(tasks);
    double seconds = clock.Elapsed.TotalSeconds;

    long hwm = 0;
    foreach (string line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            hwm = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);

    string error = firstError is null ? "null" : "\"" + firstError.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"sessions\":{sessions},\"ok\":{ok},\"failed\":{sessions - ok},\"messages\":{messages},\"bytes\":{bytes},\"login_seconds\":{TimeSpan.FromTicks(loginTicks).TotalSeconds:R},\"seconds\":{seconds:R},\"vmhwm_kb\":{hwm},\"first_error\":{error}}}"));
    return ok == sessions ? 0 : 1;
}
