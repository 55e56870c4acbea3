using Microsoft.CodeAnalysis;

namespace DiffGen.Generator
{
    /// <summary>Emits pullbacks and pushforwards for [Differentiable] methods.</summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class DifferentiableGenerator : IIncrementalGenerator
    {
        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
        }
    }
}
