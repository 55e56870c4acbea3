using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Emit
{
    /// <summary>The loop fields the string emitters read, over the typed loop records (removed with those emitters).</summary>
    internal static class LegacyLoops
    {
        public static bool IsCanonical(this Loop l) => l is ForLoop;

        public static int Counter(this Loop l) => l is ForLoop f ? f.Counter : -1;

        public static Expr? Start(this Loop l) => (l as ForLoop)?.Start;

        public static int StepValue(this Loop l) => l is ForLoop f ? f.Step : 0;

        public static Block Step(this Loop l) => l is WhileLoop w ? w.Step : new Block(0, EquatableArray<Stmt>.Empty);
    }
}
