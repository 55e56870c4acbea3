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

/// <summary>
/// One recorded op: its inputs, how to map the output's gradient to theirs, and the versions of the
/// tensors it may have saved (its inputs and its result) when it ran. A backward that finds a version
/// changed refuses to run: the saved value was modified in place and the gradient would be wrong.
/// </summary>
internal sealed class Node
{
    private readonly int[] _versions;
    private Func<Tensor, Tensor?[]>? _backward;

    public Node(string opName, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, Tensor result)
    {
        OpName = opName;
        Inputs = inputs;
        _backward = backward;
        _versions = new int[inputs.Length + 1];
        for (int i = 0; i < inputs.Length; i++) _versions[i] = inputs[i].Storage.Version;
        _versions[inputs.Length] = result.Storage.Version;
    }

    public string OpName { get; }

    public Tensor[] Inputs { get; }

    /// <summary>Whether a backward pass without <c>retainGraph</c> has run through this node (its closure is dropped).</summary>
    public bool Freed => _backward is null;

    public Tensor?[] Backward(Tensor g) => _backward!(g);

    /// <summary>Drops the backward closure and with it the tensors it saved (PyTorch frees its saved buffers the same way).</summary>
    public void Free() => _backward = null;

    /// <summary>Throws when an input or the result of this op was modified in place after the op ran.</summary>
    public void CheckVersions(Tensor result)
    {
        for (int i = 0; i <= Inputs.Length; i++)
        {
            var t = i < Inputs.Length ? Inputs[i] : result;
            int now = t.Storage.Version;
            if (now == _versions[i]) continue;
            string which = i < Inputs.Length ? $"input {i}" : "result";
            string name = t.Name is null ? "" : $" '{t.Name}'";
            throw new InvalidOperationException(
                $"Backward through {OpName}: its {which}{name} of shape {Tensor.FormatShape(t.ShapeRef)} was modified in place after {OpName} used it " +
                $"(version {_versions[i]} then, {now} now: written through Data, CopyFrom or an optimizer step), so the gradient would be wrong. " +
                "Modify a Clone() instead, or modify the tensor only after Backward().");
        }
    }
}

/// <summary>
/// Recording tensor ops and running the reverse sweep (the autograd graph of <see cref="Tensor"/>; not to be
/// confused with <see cref="DiffGen.Tape"/>, the value tape of generated pullback halves).
/// </summary>
internal static class AutogradTape
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
                result.GradFn = new Node(opName, inputs, backward, result);
                result.RequiresGrad = true;
                return result;
            }
        }
        return result;
    }

    /// <summary>
    /// The reverse sweep from <paramref name="root"/>. Without <paramref name="retainGraph"/> every node it
    /// passes is freed afterwards (a second backward through it is an error, as in PyTorch). Before any
    /// gradient is computed, every node is checked: none freed, no saved tensor modified in place.
    /// </summary>
    public static void RunBackward(Tensor root, Tensor seed, bool retainGraph)
    {
        var order = TopologicalOrder(root);
        foreach (var t in order)
        {
            var node = t.GradFn!;
            if (node.Freed)
                throw new InvalidOperationException(
                    $"Backward through {node.OpName} a second time: an earlier Backward() already ran through this part of the graph and freed it " +
                    "(gradients would be added twice). Call Backward(retainGraph: true) on the earlier pass if you mean to run backward again, or recompute the forward pass.");
            node.CheckVersions(t);
        }
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
            if (!retainGraph) node.Free();
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
        // Nodes the sweep did not reach with a gradient are freed as well: the pass is over for all of them.
        if (!retainGraph) foreach (var t in order) t.GradFn!.Free();
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
