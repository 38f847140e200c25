namespace Poplib.Tests.Infrastructure;

/// <summary>Runs a client call down the sync or the async path, so each test covers both.</summary>
internal static class Both
{
    public static async Task<T> Run<T>(bool async, Func<T> sync, Func<Task<T>> asynchronous) =>
        async ? await asynchronous() : sync();

    public static async Task Run(bool async, Action sync, Func<Task> asynchronous)
    {
        if (async)
            await asynchronous();
        else
            sync();
    }

    public static Task<Pop3Client> Connect(bool async, int port, Pop3ClientOptions? options = null) =>
        Run(async, () => Pop3Client.Connect("127.0.0.1", port, options), () => Pop3Client.ConnectAsync("127.0.0.1", port, options));

    public static Task<Pop3Client> ConnectSsl(bool async, string host, int port, Pop3ClientOptions? options = null) =>
        Run(async, () => Pop3Client.ConnectSsl(host, port, options), () => Pop3Client.ConnectSslAsync(host, port, options));

    /// <summary>Connects to <paramref name="host"/> with TLS: from the first byte, or by STLS after the greeting.</summary>
    public static async Task<Pop3Client> ConnectTls(bool async, string host, int port, bool implicitTls, Pop3ClientOptions options)
    {
        if (implicitTls)
            return await ConnectSsl(async, host, port, options);
        Pop3Client client = await Run(async, () => Pop3Client.Connect(host, port, options), () => Pop3Client.ConnectAsync(host, port, options));
        try
        {
            await Run(async, () => client.Stls(), () => client.StlsAsync());
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Connects and logs in with USER alice / PASS secret (what <c>ScriptedServer.Script.LoggedIn</c> expects).</summary>
    public static async Task<Pop3Client> LogIn(bool async, int port, Pop3ClientOptions? options = null)
    {
        Pop3Client client = await Connect(async, port, options ?? Plain());
        await Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Run(async, () => client.Pass("secret"), () => client.PassAsync("secret"));
        return client;
    }

    /// <summary>Theory data: every case once down the sync path and once down the async one.</summary>
    public static TheoryData<bool, T> Paths<T>(params T[] cases)
    {
        var data = new TheoryData<bool, T>();
        foreach (T item in cases)
        {
            data.Add(false, item);
            data.Add(true, item);
        }

        return data;
    }

    /// <inheritdoc cref="Paths{T}(T[])"/>
    public static TheoryData<bool, T1, T2> Paths<T1, T2>(params (T1, T2)[] cases)
    {
        var data = new TheoryData<bool, T1, T2>();
        foreach ((T1 first, T2 second) in cases)
        {
            data.Add(false, first, second);
            data.Add(true, first, second);
        }

        return data;
    }

    /// <inheritdoc cref="Paths{T}(T[])"/>
    public static TheoryData<bool, T1, T2, T3> Paths<T1, T2, T3>(params (T1, T2, T3)[] cases)
    {
        var data = new TheoryData<bool, T1, T2, T3>();
        foreach ((T1 first, T2 second, T3 third) in cases)
        {
            data.Add(false, first, second, third);
            data.Add(true, first, second, third);
        }

        return data;
    }

    /// <summary>Every value of a test's form enum, each with bytes sent whole and one byte at a time.</summary>
    public static TheoryData<TForm, bool> FormsAndSplits<TForm>()
        where TForm : struct, Enum
    {
        var data = new TheoryData<TForm, bool>();
        foreach (TForm form in Enum.GetValues<TForm>())
        {
            data.Add(form, false);
            data.Add(form, true);
        }

        return data;
    }

    /// <summary>Options for the scripted server: short timeout, plaintext passwords allowed.</summary>
    public static Pop3ClientOptions Plain(bool queryCapabilities = true) => new()
    {
        AllowInsecureAuthentication = true,
        QueryCapabilities = queryCapabilities,
        Timeout = TimeSpan.FromSeconds(10),
    };
}
