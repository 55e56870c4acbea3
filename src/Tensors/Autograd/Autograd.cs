namespace DiffGen.Tensors;

/// <summary>
/// Global switches of the autograd tape: gradient recording (<see cref="NoGrad"/>) and the opt-in
/// non-finite check (<see cref="DetectNonFinite"/>). Recording is per thread, as in PyTorch.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;
    // AsyncLocal: the setting follows the logical flow (await, Task.Run) and does not leak into
    // unrelated threads, e.g. tests running in parallel.
    private static readonly AsyncLocal<bool> _detectNonFinite = new();

    /// <summary>Whether ops on this thread record themselves on the tape.</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary>
    /// A scope in which ops are not recorded (inference, optimizer updates, evaluation):
    /// <c>using (Autograd.NoGrad()) { … }</c>.
    /// </summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope(true);
    }

    /// <summary>
    /// When true, every op checks its result (and every backward step its gradients) for NaN and
    /// infinity and throws <see cref="NonFiniteException"/> naming the first op that produced one.
    /// Off by default because the check reads every value once more. The setting belongs to the current
    /// logical flow of execution (it follows await and tasks started from it).
    /// </summary>
    public static bool DetectNonFinite
    {
        get => _detectNonFinite.Value;
        set => _detectNonFinite.Value = value;
    }

    /// <summary>Turns <see cref="DetectNonFinite"/> on for the lifetime of the returned scope.</summary>
    public static NonFiniteScope CheckNonFinite()
    {
        bool previous = _detectNonFinite.Value;
        _detectNonFinite.Value = true;
        return new NonFiniteScope(previous);
    }

    internal static void ExitNoGrad() => _noGradDepth--;

    /// <summary>
    /// Re-enables recording inside a backward function (checkpointed segments re-run their steps on a
    /// local tape); disposing the returned scope restores the previous state.
    /// </summary>
    internal static GradScope EnableGrad()
    {
        int saved = _noGradDepth;
        _noGradDepth = 0;
        return new GradScope(saved);
    }

    internal readonly struct GradScope(int saved) : IDisposable
    {
        public void Dispose() => _noGradDepth = saved;
    }

    /// <summary>Restores gradient recording when disposed.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        private readonly bool _active;

        internal NoGradScope(bool active) => _active = active;

        /// <summary>Ends the scope.</summary>
        public void Dispose()
        {
            if (_active) ExitNoGrad();
        }
    }

    /// <summary>Restores the previous <see cref="DetectNonFinite"/> setting when disposed.</summary>
    public readonly struct NonFiniteScope : IDisposable
    {
        private readonly bool _previous;

        internal NonFiniteScope(bool previous) => _previous = previous;

        /// <summary>Ends the scope.</summary>
        public void Dispose() => _detectNonFinite.Value = _previous;
    }
}

/// <summary>Thrown when <see cref="Autograd.DetectNonFinite"/> is on and an op produced NaN or infinity.</summary>
public sealed class NonFiniteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NonFiniteException(string opName, string message) : base(message) => OpName = opName;

    /// <summary>The op (or "backward of" op) whose result first contained a non-finite value.</summary>
    public string OpName { get; }
}

/// <summary>One recorded op: its inputs and how to map the output's gradient to theirs.</summary>
internal sealed class Node(string opName, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
{
    public string OpName { get; } = opName;

    public Tensor[] Inputs { get; } = inputs;

    public Func<Tensor, Tensor?[]> Backward { get; } = backward;
}

/// <summary>Recording ops and running the reverse sweep.</summary>
internal static class Tape
{
    /// <summary>
    /// Attaches a node to <paramref name="result"/> when gradients are enabled and an input requires one.
    /// The backward function receives the output gradient and returns one gradient per input (null
    /// for inputs that need none); it runs with recording off and must not modify its argument.
    /// </summary>
    public static Tensor Record(Tensor result, string opName, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (Autograd.DetectNonFinite) CheckFinite(result, opName, inputs);
        if (!Autograd.IsGradEnabled) return result;
        foreach (var x in inputs)
        {
            if (x.RequiresGrad)
            {
                result.GradFn = new Node(opName, inputs, backward);
                result.RequiresGrad = true;
                return result;
            }
        }
        return result;
    }

    public static void RunBackward(Tensor root, Tensor seed)
    {
        var order = TopologicalOrder(root);
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [root] = seed };
        using var _ = Autograd.NoGrad();
        if (root.GradFn is null)
        {
            AccumulateLeaf(root, seed);
            return;
        }
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (!grads.Remove(t, out var g)) continue;
            var node = t.GradFn!;
            var inputGrads = node.Backward(g);
            for (int j = 0; j < node.Inputs.Length; j++)
            {
                var x = node.Inputs[j];
                var gx = inputGrads[j];
                if (gx is null || !x.RequiresGrad) continue;
                if (!Tensor.SameShape(gx.ShapeRef, x.ShapeRef))
                    throw new InvalidOperationException($"Internal error: backward of {node.OpName} produced a gradient of shape {Tensor.FormatShape(gx.ShapeRef)} for an input of shape {Tensor.FormatShape(x.ShapeRef)}.");
                if (Autograd.DetectNonFinite) CheckFinite(gx, "backward of " + node.OpName, node.Inputs);
                if (x.GradFn is null) AccumulateLeaf(x, gx);
                else grads[x] = grads.TryGetValue(x, out var prev) ? prev + gx : gx;
            }
        }
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        // A leaf's gradient gets its own memory: the same gradient tensor may reach several leaves
        // (z = a + b), and optimizers or clipping may scale a gradient in place.
        leaf.Grad = leaf.Grad is null ? Ops.CopyOf(g) : leaf.Grad + g;
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        // Iterative post-order DFS: long unrolled rollouts make the graph too deep for recursion.
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        if (root.GradFn is null) return order;
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var x = inputs[next];
                if (x.GradFn is not null && x.RequiresGrad && visited.Add(x)) stack.Push((x, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }

    private static void CheckFinite(Tensor t, string opName, Tensor[] inputs)
    {
        var data = t.ToArray();
        for (int i = 0; i < data.Length; i++)
        {
            if (float.IsFinite(data[i])) continue;
            var shapes = string.Join(", ", inputs.Select(x => (x.Name is null ? "" : x.Name + " ") + Tensor.FormatShape(x.ShapeRef)));
            throw new NonFiniteException(opName,
                $"{opName} produced {data[i]} at flat index {i} of its result of shape {Tensor.FormatShape(t.ShapeRef)} (inputs: {shapes}). " +
                "This is the first op with a non-finite value; check its inputs' ranges (log of a non-positive number, division by zero, overflow in exp).");
        }
    }
}
