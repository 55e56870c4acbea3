using System;
using System.Collections.Generic;
using DiffGen;

namespace Snap;

public static partial class ListOps
{
    // A List<double> parameter normalised in place: Count, indexing, foreach; the adjoint is a List<double>.
    [Differentiable]
    public static void Normalize(List<double> values)
    {
        double norm = 0;
        foreach (double v in values) norm += v * v;
        norm = Math.Sqrt(norm);
        for (int i = 0; i < values.Count; i++) values[i] /= norm;
    }
}
