namespace DiffGen.Generator.Tests.Reverse;

/// <summary>
/// Methods that return arrays and value tuples, as people write them: a returned local array (flat,
/// two-dimensional, jagged), one written by a loop that reads its own earlier elements, a returned input
/// array (aliasing the input), different arrays returned on different paths, an array returned by a
/// callee, tuples built by literals, read by element name and deconstructed, and callers of all of these.
/// Float twins of several.
/// </summary>
public static partial class Returns
{
    [Differentiable]
    public static double[] Squares(double[] x, double s)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = s * x[i] * x[i];
        return r;
    }

    /// <summary>Each element reads the one before it: r[i] = r[i - 1] · c + x[i]².</summary>
    [Differentiable]
    public static double[] RunningSum(double[] x, double c)
    {
        var r = new double[x.Length];
        r[0] = x[0] * x[0];
        for (int i = 1; i < x.Length; i++) r[i] = r[i - 1] * c + x[i] * x[i];
        return r;
    }

    [Differentiable]
    public static float[] RunningSumF(float[] x, float c)
    {
        var r = new float[x.Length];
        r[0] = x[0] * x[0];
        for (int i = 1; i < x.Length; i++) r[i] = r[i - 1] * c + x[i] * x[i];
        return r;
    }

    /// <summary>Updates its input in place and returns it: the result is the input array itself.</summary>
    [Differentiable]
    public static double[] ScaleInPlace(double[] x, double s)
    {
        for (int i = 0; i < x.Length; i++) x[i] = s * Math.Sin(x[i]);
        return x;
    }

    [Differentiable]
    public static float[] ScaleInPlaceF(float[] x, float s)
    {
        for (int i = 0; i < x.Length; i++) x[i] = s * MathF.Sin(x[i]);
        return x;
    }

    /// <summary>Returns its input unchanged when asked to, a new array otherwise.</summary>
    [Differentiable]
    public static double[] NormalizedOrSame(double[] x, bool normalize)
    {
        if (!normalize) return x;
        double norm = 0;
        for (int i = 0; i < x.Length; i++) norm += x[i] * x[i];
        norm = Math.Sqrt(norm);
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = x[i] / norm;
        return r;
    }

    [Differentiable]
    public static double[] Softmax(double[] z)
    {
        double max = double.NegativeInfinity;
        foreach (var v in z) max = Math.Max(max, v);
        var p = new double[z.Length];
        double sum = 0;
        for (int i = 0; i < z.Length; i++)
        {
            p[i] = Math.Exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    [Differentiable]
    public static float[] SoftmaxF(float[] z)
    {
        float max = float.NegativeInfinity;
        foreach (var v in z) max = MathF.Max(max, v);
        var p = new float[z.Length];
        float sum = 0;
        for (int i = 0; i < z.Length; i++)
        {
            p[i] = MathF.Exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    /// <summary>Calls a method returning an array and reads the result.</summary>
    [Differentiable]
    public static double CrossEntropy(double[] z, double[] target)
    {
        var p = Softmax(z);
        double loss = 0;
        for (int i = 0; i < p.Length; i++) loss -= target[i] * Math.Log(p[i]);
        return loss;
    }

    [Differentiable]
    public static float CrossEntropyF(float[] z, float[] target)
    {
        var p = SoftmaxF(z);
        float loss = 0;
        for (int i = 0; i < p.Length; i++) loss -= target[i] * MathF.Log(p[i]);
        return loss;
    }

    /// <summary>Returns a callee's array as its own (the local the call initialised).</summary>
    [Differentiable]
    public static double[] SquaresOfSoftmax(double[] z)
    {
        var p = Softmax(z);
        var q = Squares(p, 3.0);
        return q;
    }

    /// <summary>Returns a call's result directly (a copy into the result).</summary>
    [Differentiable]
    public static double[] DoubledSquares(double[] x) => Squares(x, 2.0);

    /// <summary>A call's array passed straight to another call.</summary>
    [Differentiable]
    public static double[] NestedSquares(double[] x) => Squares(Squares(x, 0.5), 2.0);

    [Differentiable]
    public static double[,] Outer(double[] u, double[] v)
    {
        var m = new double[u.Length, v.Length];
        for (int i = 0; i < u.Length; i++)
            for (int j = 0; j < v.Length; j++)
                m[i, j] = u[i] * Math.Exp(v[j]);
        return m;
    }

    [Differentiable]
    public static float[,] OuterF(float[] u, float[] v)
    {
        var m = new float[u.Length, v.Length];
        for (int i = 0; i < u.Length; i++)
            for (int j = 0; j < v.Length; j++)
                m[i, j] = u[i] * MathF.Exp(v[j]);
        return m;
    }

    /// <summary>Returns its two-dimensional input after updating it.</summary>
    [Differentiable]
    public static double[,] SquareEntries(double[,] a)
    {
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                a[i, j] = a[i, j] * a[i, j];
        return a;
    }

    /// <summary>Rows of growing length: row i holds the first i + 1 prefix products.</summary>
    [Differentiable]
    public static double[][] Triangle(double[] x)
    {
        var rows = new double[x.Length][];
        for (int i = 0; i < x.Length; i++)
        {
            rows[i] = new double[i + 1];
            rows[i][0] = x[0];
            for (int j = 1; j <= i; j++) rows[i][j] = rows[i][j - 1] * x[j];
        }
        return rows;
    }

    /// <summary>Sums the entries of a matrix built by a callee.</summary>
    [Differentiable]
    public static double OuterTrace(double[] u, double[] v)
    {
        var m = Outer(u, v);
        double t = 0;
        for (int i = 0; i < m.GetLength(0) && i < m.GetLength(1); i++) t += m[i, i] * m[i, i];
        return t;
    }

    [Differentiable]
    public static (double Mean, double Variance) Moments(double[] x)
    {
        double mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= x.Length;
        double variance = 0;
        for (int i = 0; i < x.Length; i++) variance += (x[i] - mean) * (x[i] - mean);
        return (mean, variance / x.Length);
    }

    [Differentiable]
    public static (float Mean, float Variance) MomentsF(float[] x)
    {
        float mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= x.Length;
        float variance = 0;
        for (int i = 0; i < x.Length; i++) variance += (x[i] - mean) * (x[i] - mean);
        return (mean, variance / x.Length);
    }

    /// <summary>An unnamed tuple from scalars, returned by an expression body.</summary>
    [Differentiable]
    public static (double, double) Polar(double x, double y) => (Math.Sqrt(x * x + y * y), Math.Atan2(y, x));

    /// <summary>Deconstructs a callee's tuple into new locals.</summary>
    [Differentiable]
    public static double StandardScore(double[] x, double value)
    {
        var (mean, variance) = Moments(x);
        return (value - mean) / Math.Sqrt(variance);
    }

    [Differentiable]
    public static float StandardScoreF(float[] x, float value)
    {
        var (mean, variance) = MomentsF(x);
        return (value - mean) / MathF.Sqrt(variance);
    }

    /// <summary>Keeps a callee's tuple in a local and reads its elements by name and by ItemN.</summary>
    [Differentiable]
    public static double PolarMix(double[] xs, double x, double y)
    {
        var p = Polar(x, y);
        var m = Moments(xs);
        return p.Item1 * Math.Cos(0.5 * p.Item2) + m.Mean * m.Variance;
    }

    /// <summary>A swap through a tuple, a tuple of a tuple, and deconstruction into existing locals with a discard.</summary>
    [Differentiable]
    public static ((double A, double B) Inner, double C) SwapAndNest(double a, double b)
    {
        for (int k = 0; k < 3; k++) (a, b) = (b, a * b + 0.5);
        double c, unused;
        (c, unused) = (a - b, 1.0);
        (double d, _) = Polar(a, b);
        return ((a * d, b), c * c);
    }

    /// <summary>A tuple-returning callee called once per iteration, its elements deconstructed in the loop.</summary>
    [Differentiable]
    public static double PolarSum(double[] xs, double y)
    {
        double s = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            var (r, a) = Polar(xs[i], y);
            s += r * a;
        }
        return s;
    }

    /// <summary>A tuple parameter (its adjoint is a tuple, accumulated element by element) and a tuple local.</summary>
    [Differentiable]
    public static double TupleParameter((double X, double Y) p, double s)
    {
        var q = (p.X * s, p.Item2 + s);
        q.Item1 += Math.Sin(q.Item2);
        return q.Item1 * p.Y;
    }

    /// <summary>An array of tuples, read element by element.</summary>
    [Differentiable]
    public static double SumOfProducts((double A, double B)[] pairs)
    {
        double s = 0;
        for (int i = 0; i < pairs.Length; i++) s += pairs[i].A * pairs[i].B;
        return s;
    }

    /// <summary>Returns a tuple of numbers computed from an array returned by a callee.</summary>
    [Differentiable]
    public static (double First, double Last) Ends(double[] x)
    {
        var r = RunningSum(x, 0.5);
        return (r[0], r[r.Length - 1]);
    }
}
