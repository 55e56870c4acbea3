using DiffGen.Physics;
using Xunit.Abstractions;

namespace DiffGen.Physics.Tests;

/// <summary>The reference setups of shared/EXPERIMENTS.md, checked against the numbers the book printed.</summary>
public class ExperimentTests(ITestOutputHelper output)
{
    [Fact]
    public void SmokeSetupReproducesTheBooksInitialLoss()
    {
        // §2: 32x40, dt 1, closed box, 4 inflow discs of radius 3 adding 1/3 per step, 20 steps, zero
        // initial velocity. Book: summed loss 298.3 at iteration 0 (PhiFlow's l2_loss = sum of squares / 2).
        var sm = Smoke2D.PbdlPlume(32, 40);
        (double X, double Y)[] centres = [(12, 4), (13, 6), (14, 5), (16, 5)];
        var finals = new List<double[]>();
        foreach (var (cx, cy) in centres)
        {
            var inflow = sm.DiscInflow(cx, cy, 3, 1.0 / 3);
            var s = new double[32 * 40]; var u = new double[33 * 40]; var v = new double[32 * 41];
            var sn = new double[s.Length]; var un = new double[u.Length]; var vn = new double[v.Length]; var p = new double[s.Length];
            for (int t = 0; t < 20; t++) { sm.Step(s, u, v, inflow, sn, un, vn, p); sn.CopyTo(s, 0); un.CopyTo(u, 0); vn.CopyTo(v, 0); }
            finals.Add(s);
        }
        double loss = 0;
        foreach (var f in finals) for (int k = 0; k < f.Length; k++) loss += 0.5 * (f[k] - finals[3][k]) * (f[k] - finals[3][k]);
        output.WriteLine($"smoke-opt iteration-0 loss {loss:F2} (book 298.3)");
        Assert.InRange(loss, 298.3 * 0.98, 298.3 * 1.02);
    }

    [Fact]
    public void BurgersOptimizationFollowsTheBooksLossCurve()
    {
        // §1: 128 cells, 16 steps to the target, GD lr 5 on the initial state. Book: 0.3829 (it 0),
        // 0.2107 (4), 0.0962 (10), 0.0328 (20), 0.0129 (30), 0.0052 (40), 0.0033 (45).
        // Observed here: 0.4024, 0.2226, 0.1024, 0.0353, 0.0137, 0.0054, 0.0033 — about 5 % above the book
        // early on, the same at the end. The cause is the target: the notebook compares against a hard-coded
        // high-fidelity reference array (its mean square is 0.3829, the printed iteration-0 loss), whereas
        // EXPERIMENTS §1 (and this test) uses this solver's own state at step 16 (mean square 0.4024).
        var b = Burgers1D.PbdlOptimization();
        int n = b.Cells;
        var u = b.Evaluate(x => -Math.Sin(Math.PI * x));
        var tmp = new double[n];
        for (int s = 0; s < 16; s++) { b.Step(u, tmp); tmp.CopyTo(u, 0); }
        var target = (double[])u.Clone();
        var x0 = new double[n];
        var book = new Dictionary<int, double> { [0] = 0.3829, [4] = 0.2107, [10] = 0.0962, [20] = 0.0328, [30] = 0.0129, [40] = 0.0052, [45] = 0.0033 };
        for (int it = 0; it <= 45; it++)
        {
            var states = new List<double[]> { (double[])x0.Clone() };
            for (int s = 0; s < 16; s++) { var next = new double[n]; b.Step(states[^1], next); states.Add(next); }
            double loss = 0;
            for (int i = 0; i < n; i++) loss += (states[^1][i] - target[i]) * (states[^1][i] - target[i]);
            loss /= n;
            if (book.TryGetValue(it, out double expected))
            {
                output.WriteLine($"it {it}: loss {loss:F4} (book {expected:F4})");
                Assert.InRange(loss / expected, 0.93, 1.08);
            }
            var bar = new double[n];
            for (int i = 0; i < n; i++) bar[i] = 2 * (states[^1][i] - target[i]) / n;
            double nuBar = 0;
            for (int s = 15; s >= 0; s--) { var prev = new double[n]; b.StepBackward(states[s], tmp, prev, bar, ref nuBar); bar = prev; }
            for (int i = 0; i < n; i++) x0[i] -= 5 * bar[i];
        }
    }
}
