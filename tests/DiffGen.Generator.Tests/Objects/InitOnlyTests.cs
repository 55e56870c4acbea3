namespace DiffGen.Generator.Tests.Objects;

/// <summary>
/// Structs whose members generated code cannot assign by name (positional readonly record structs, init-only
/// properties, readonly fields): their adjoints and tangents are structs of the same type, read through the same
/// properties; checked against finite differences in double and float.
/// </summary>
public class InitOnlyTests
{
    // (omega, density, stiffness, damping)
    private static readonly double[] At = [1.3, 2.0, 50.0, 0.8];

    [Fact]
    public void InRecordStruct_Response()
    {
        double L(double[] p) => InitOnlyKernels.Response(p[0], new Material(p[1], p[2], p[3]));
        var fd = GradCheck.FiniteDifferenceGradient(L, At);
        double omegaBar = 0;
        var mBar = new Material();
        var m = new Material(At[1], At[2], At[3]);
        double y = InitOnlyKernels.ResponsePullback(At[0], m, 1.0, ref omegaBar, ref mBar);
        Assert.Equal(InitOnlyKernels.Response(At[0], m), y);
        GradCheck.AssertClose([omegaBar, mBar.Density, mBar.Stiffness, mBar.Damping], fd);

        double[] dir = [0.5, -0.25, 3.0, 0.1];
        var (value, tangent) = InitOnlyKernels.ResponsePushforward(At[0], dir[0], m, new Material(dir[1], dir[2], dir[3]));
        Assert.Equal(y, value);
        GradCheck.AssertClose([tangent], [fd.Zip(dir, (g, u) => g * u).Sum()], 1e-6, "tangent");

        float omegaBarF = 0;
        var mBarF = new MaterialF();
        InitOnlyKernels.ResponseFPullback((float)At[0], new MaterialF((float)At[1], (float)At[2], (float)At[3]), 1f, ref omegaBarF, ref mBarF);
        GradCheck.AssertClose([omegaBarF, mBarF.Density, mBarF.Stiffness, mBarF.Damping], fd, 1e-3, "float gradient");
    }

    [Fact]
    public void ReadonlyFieldsAndInitProperties_PassedOn()
    {
        // (k, rest, scale, offset, x)
        double[] at = [4.0, 0.3, 1.7, -0.2, 1.1];
        double L(double[] p) => InitOnlyKernels.Energy(new Spring1D(p[0], p[1]), new Options { Scale = p[2], Offset = p[3] }, p[4]);
        var fd = GradCheck.FiniteDifferenceGradient(L, at);
        var sBar = new Spring1D();
        var oBar = new Options();
        double xBar = 0;
        InitOnlyKernels.EnergyPullback(new Spring1D(at[0], at[1]), new Options { Scale = at[2], Offset = at[3] }, at[4], 1.0, ref sBar, ref oBar, ref xBar);
        GradCheck.AssertClose([sBar.K, sBar.Rest, oBar.Scale, oBar.Offset, xBar], fd);
    }

    [Fact]
    public void RecordStructLocal_BuiltFromAParameter()
    {
        double L(double[] p) => InitOnlyKernels.Softened(new Material(p[1], p[2], p[3]), p[0]);
        var fd = GradCheck.FiniteDifferenceGradient(L, At);
        var mBar = new Material();
        double xBar = 0;
        InitOnlyKernels.SoftenedPullback(new Material(At[1], At[2], At[3]), At[0], 1.0, ref mBar, ref xBar);
        GradCheck.AssertClose([xBar, mBar.Density, mBar.Stiffness, mBar.Damping], fd);
    }

    [Fact]
    public void NestedInitOnlyStructs()
    {
        // Brightness: (focal, aperture, exposure, distance)
        double[] at = [0.05, 0.02, 1.5, 3.0];
        double B(double[] p) => NestedInitOnlyKernels.Brightness(new Camera { Lens = new Lens(p[0], p[1]), Exposure = p[2] }, p[3]);
        var cBar = new Camera();
        double dBar = 0;
        NestedInitOnlyKernels.BrightnessPullback(new Camera { Lens = new Lens(at[0], at[1]), Exposure = at[2] }, at[3], 1.0, ref cBar, ref dBar);
        GradCheck.AssertClose([cBar.Lens.Focal, cBar.Lens.Aperture, cBar.Exposure, dBar], GradCheck.FiniteDifferenceGradient(B, at));

        // Reach: (focal, aperture, height, tilt)
        double[] rat = [0.05, 0.02, 1.8, 0.4];
        double R(double[] p) => NestedInitOnlyKernels.Reach(new Rig(new Lens(p[0], p[1]), p[2]), p[3]);
        var fd = GradCheck.FiniteDifferenceGradient(R, rat);
        var rBar = new Rig();
        double tBar = 0;
        NestedInitOnlyKernels.ReachPullback(new Rig(new Lens(rat[0], rat[1]), rat[2]), rat[3], 1.0, ref rBar, ref tBar);
        GradCheck.AssertClose([rBar.Lens.Focal, rBar.Lens.Aperture, rBar.Height, tBar], fd);

        var (_, tangent) = NestedInitOnlyKernels.ReachPushforward(new Rig(new Lens(rat[0], rat[1]), rat[2]), new Rig(new Lens(1, 0), 0.5), rat[3], 1.0);
        GradCheck.AssertClose([tangent], [fd[0] + 0.5 * fd[2] + fd[3]], 1e-6, "tangent");

        var rBarF = new RigF();
        float tBarF = 0;
        NestedInitOnlyKernels.ReachFPullback(new RigF(new LensF((float)rat[0], (float)rat[1]), (float)rat[2]), (float)rat[3], 1f, ref rBarF, ref tBarF);
        GradCheck.AssertClose([rBarF.Lens.Focal, rBarF.Lens.Aperture, rBarF.Height, tBarF], fd, 1e-3, "float gradient");
    }
}
