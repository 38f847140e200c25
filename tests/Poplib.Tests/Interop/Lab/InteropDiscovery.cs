using Xunit.Abstractions;
using Xunit.Sdk;

namespace Poplib.Tests.Interop.Lab;

/// <summary>Names the lab server a concrete test class of <see cref="InteropSuite"/> runs against.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class InteropServerAttribute(string name) : Attribute
{
    public RealServer Server { get; } = RealServer.All.Single(s => s.Name == name);

    /// <summary>The server of a test class (the concrete one, not the shared base that declares the tests).</summary>
    public static RealServer Of(Type testClass) =>
        testClass.GetCustomAttributes(typeof(InteropServerAttribute), inherit: false) is [InteropServerAttribute attribute]
            ? attribute.Server
            : throw new InvalidOperationException($"{testClass.Name} has no [InteropServer(...)].");
}

/// <summary>
/// A test against a real server of the lab. The server is the test class's (<see cref="InteropServerAttribute"/>),
/// so one shared test runs once per server; each case gets the traits <c>Category=Interop</c> and
/// <c>Server=NAME</c> (<c>dotnet test --filter "Category=Interop&amp;Server=cyrus"</c>), and is skipped with
/// the reason when its server is not running — except under CI (<c>CI=true</c>), where it runs and fails.
/// </summary>
[XunitTestCaseDiscoverer("Poplib.Tests.Interop.Lab.InteropFactDiscoverer", "Poplib.Tests")]
[AttributeUsage(AttributeTargets.Method)]
internal sealed class InteropFactAttribute : FactAttribute;

/// <inheritdoc cref="InteropFactAttribute"/>
[XunitTestCaseDiscoverer("Poplib.Tests.Interop.Lab.InteropTheoryDiscoverer", "Poplib.Tests")]
[AttributeUsage(AttributeTargets.Method)]
internal sealed class InteropTheoryAttribute : TheoryAttribute;

public sealed class InteropFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        new InteropTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
}

public sealed class InteropTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
        [new InteropTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, dataRow)];

    // When the runner does not enumerate a theory's rows at discovery, one case runs them all.
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForTheory(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute) =>
        [new InteropTheoryTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case whose skip reason and traits come from the server of its test class.</summary>
public sealed class InteropTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public InteropTestCase()
    {
    }

    public InteropTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod, object[]? testMethodArguments = null)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, testMethodArguments)
    {
    }

    protected override void Initialize()
    {
        base.Initialize();
        InteropTraits.Add(this);
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => InteropTraits.SkipReason(this) ?? base.GetSkipReason(factAttribute);
}

/// <inheritdoc cref="InteropTestCase"/>
public sealed class InteropTheoryTestCase : XunitTheoryTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public InteropTheoryTestCase()
    {
    }

    public InteropTheoryTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod)
    {
    }

    protected override void Initialize()
    {
        base.Initialize();
        InteropTraits.Add(this);
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => InteropTraits.SkipReason(this) ?? base.GetSkipReason(factAttribute);
}

internal static class InteropTraits
{
    public static void Add(XunitTestCase testCase)
    {
        testCase.Traits["Category"] = ["Interop"];
        testCase.Traits["Server"] = [ServerOf(testCase).Name];
    }

    public static string? SkipReason(XunitTestCase testCase) => ServerOf(testCase).SkipReason;

    private static RealServer ServerOf(XunitTestCase testCase) => InteropServerAttribute.Of(testCase.TestMethod.TestClass.Class.ToRuntimeType());
}
