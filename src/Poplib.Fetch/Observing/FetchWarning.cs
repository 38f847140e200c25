namespace Poplib.Fetch;

/// <summary>What a warning is about, for hosts that word it themselves (the CLI names its options).</summary>
public enum FetchWarningKind
{
    /// <summary>Anything else; <see cref="FetchWarning.Message"/> says it.</summary>
    General,

    /// <summary><see cref="FetchWarning.Count"/> messages over <see cref="FetchWarning.MaxSize"/> (by LIST) were left on the server.</summary>
    OversizeSkipped,

    /// <summary>A message turned out larger than <see cref="FetchWarning.MaxSize"/> as it arrived (though LIST said <see cref="FetchWarning.ListedSize"/>); nothing of it was kept.</summary>
    OversizeOnArrival,

    /// <summary>The mailbox's identities changed (or it was fetched before under another key); the policy <see cref="FetchWarning.Action"/> was applied.</summary>
    IdentityChanged,
}

/// <summary>Something a run could not do, but went on without. Server text in it is quoted as received: escape it before printing it to a terminal.</summary>
/// <param name="Kind">What it is about.</param>
/// <param name="Message">The engine's wording.</param>
public sealed record FetchWarning(FetchWarningKind Kind, string Message)
{
    /// <summary>The message's number in the session, when it is about one message.</summary>
    public int? MessageNumber { get; init; }

    /// <summary>The message's key, when it is about one message.</summary>
    public MessageKey? Key { get; init; }

    /// <summary>How many messages, for <see cref="FetchWarningKind.OversizeSkipped"/>.</summary>
    public int Count { get; init; }

    /// <summary>The size limit, for the oversize kinds.</summary>
    public long? MaxSize { get; init; }

    /// <summary>The size LIST gave, for <see cref="FetchWarningKind.OversizeOnArrival"/>.</summary>
    public long? ListedSize { get; init; }

    /// <summary>What the engine did, for <see cref="FetchWarningKind.IdentityChanged"/>: the policy's action (or <see cref="UidlResetAction.Refetch"/> on a first run).</summary>
    public UidlResetAction? Action { get; init; }

    /// <summary>For <see cref="FetchWarningKind.IdentityChanged"/>: what was found, without what was done about it.</summary>
    public string? Finding { get; init; }

    /// <summary>The engine's wording.</summary>
    public override string ToString() => Message;
}
