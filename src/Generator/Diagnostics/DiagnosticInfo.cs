using System;
using DiffGen.Generator.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace DiffGen.Generator.Diagnostics
{
    /// <summary>An equatable description of a diagnostic (no Location or symbol is held).</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo Location, EquatableArray<string> Args)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
            new DiagnosticInfo(descriptor.Id, Locations.From(location), args.ToEquatableArray());

        public bool IsError => Descriptors.ById(Id).DefaultSeverity == DiagnosticSeverity.Error;

        public Diagnostic ToDiagnostic()
        {
            var descriptor = Descriptors.ById(Id);
            Location location = Location.IsNone()
                ? Microsoft.CodeAnalysis.Location.None
                : Microsoft.CodeAnalysis.Location.Create(Location.FilePath, new TextSpan(Location.Start, Location.Length),
                    new LinePositionSpan(new LinePosition(Location.StartLine, Location.StartColumn), new LinePosition(Location.EndLine, Location.EndColumn)));
            var args = new object[Args.Count];
            for (int i = 0; i < args.Length; i++) args[i] = Args[i];
            return Diagnostic.Create(descriptor, location, args);
        }
    }

    internal static class Locations
    {
        public static LocationInfo From(Location? location)
        {
            if (location is null || location.SourceTree is null) return LocationInfo.None;
            var span = location.GetLineSpan();
            return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan.Start, location.SourceSpan.Length,
                span.StartLinePosition.Line, span.StartLinePosition.Character, span.EndLinePosition.Line, span.EndLinePosition.Character);
        }

        public static bool IsNone(this LocationInfo location) => location.FilePath.Length == 0 && location.Length == 0;
    }
}
