using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace DiffGen.Generator.Tests.QuickStart;

/// <summary>
/// The quick start of the README (and of the DiffGen package's readme), exactly as written, is a new
/// console app's Program.cs: it compiles with the generator, runs, and prints the right gradient.
/// </summary>
public class QuickStartTests(ITestOutputHelper output)
{
    // What `dotnet new console` gives a Program.cs besides the package: implicit usings and nullable.
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    private static readonly object ConsoleLock = new();

    [Theory]
    [InlineData("README.md")]
    [InlineData("src/Runtime/README.md")]
    public void QuickStart_CompilesAsProgramCs_RunsAndPrintsTheGradient(string readme)
    {
        var snippet = FirstCSharpBlock(File.ReadAllText(Path.Combine(RepoPaths.Root, readme)));
        var printed = CompileAndRun(snippet);
        output.WriteLine(printed);

        // E = nu * sum_{i=1}^{n-2} (u[i+1] - u[i])^2 for the snippet's u and nu.
        double[] u = [0, 1, 3, 2];
        const double nu = 0.1;
        double e = 0, dNu = 0;
        var dU = new double[u.Length];
        for (int i = 1; i < u.Length - 1; i++)
        {
            double d = u[i + 1] - u[i];
            e += nu * d * d;
            dNu += d * d;
            dU[i + 1] += 2 * nu * d;
            dU[i] -= 2 * nu * d;
        }

        var m = Regex.Match(printed, @"E = (\S+), dE/dnu = (\S+)\s+dE/du = \[(.*)\]");
        Assert.True(m.Success, "unexpected output:\n" + printed);
        static double Parse(string s) => double.Parse(s.Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(e, Parse(m.Groups[1].Value), 1e-12);
        Assert.Equal(dNu, Parse(m.Groups[2].Value), 1e-12);
        var printedDu = m.Groups[3].Value.Split(',').Select(Parse).ToArray();
        Assert.Equal(dU.Length, printedDu.Length);
        for (int i = 0; i < dU.Length; i++) Assert.Equal(dU[i], printedDu[i], 1e-12);
    }

    [Fact]
    public void FirstCSharpBlock_IsTheFencedCodeAfterTheFirstCsharpFence()
    {
        const string md = "# T\n```bash\nx\n```\ntext\n```csharp\nint a = 1;\n```\n```csharp\nint b = 2;\n```\n";
        Assert.Equal("int a = 1;\n", FirstCSharpBlock(md));
        Assert.Throws<InvalidOperationException>(() => FirstCSharpBlock("no code here"));
    }

    private static string FirstCSharpBlock(string markdown)
    {
        var m = Regex.Match(markdown.Replace("\r\n", "\n", StringComparison.Ordinal), @"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline);
        if (!m.Success) throw new InvalidOperationException("no ```csharp block in the markdown");
        return m.Groups[1].Value;
    }

    /// <summary>Compiles <paramref name="program"/> as a console app with the generator, runs it and returns what it printed.</summary>
    private static string CompileAndRun(string program)
    {
        var input = TestCompilation.Create(program, ImplicitUsings);
        input = input.WithOptions(input.Options.WithOutputKind(OutputKind.ConsoleApplication));
        var result = TestCompilation.Run(input, TestCompilation.CreateDriver());
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.OutputDiagnostics);

        using var image = new MemoryStream();
        var emit = result.Output.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        image.Position = 0;

        var context = new AssemblyLoadContext("quick-start", isCollectible: true);
        try
        {
            var entry = context.LoadFromStream(image).EntryPoint!;
            var printed = new StringWriter(CultureInfo.InvariantCulture);
            // Console output is process-wide; no other test of this assembly writes to it, the lock keeps the
            // two quick starts apart.
            lock (ConsoleLock)
            {
                var previous = Console.Out;
                Console.SetOut(printed);
                try { entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]); }
                catch (TargetInvocationException ex) { throw new InvalidOperationException("the quick start threw", ex.InnerException); }
                finally { Console.SetOut(previous); }
            }
            return printed.ToString();
        }
        finally
        {
            context.Unload();
        }
    }
}
