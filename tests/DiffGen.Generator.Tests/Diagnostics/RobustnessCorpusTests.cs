using DiffGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Tests.Diagnostics;

/// <summary>
/// A corpus of odd, unsupported and malformed [Differentiable] methods: the generator never throws
/// (no CS8784/CS8785, no internal-error DG0100), whatever it generates compiles, and it either
/// generates code or explains why with a DG diagnostic inside the method.
/// </summary>
public class RobustnessCorpusTests
{
    private static readonly string[] Corpus =
    [
        "[Differentiable] public static double A(double x) { double y; y = x; return y * y; }",
        "[Differentiable] public static double B(double x) { for (;;) { if (x > 10) break; x = x * 2; } return x; }",
        "[Differentiable] public static double C1(double x) { do { x = x * 1.5; } while (x < 10); return x; }",
        "[Differentiable] public static double D(double x, int n) { double s = 0; for (int i = 0, j = n; i < j; i++, j--) s += x * i; return s; }",
        "[Differentiable] public static double E(double x) { return x > 0 ? (x < 1 ? x * x : Math.Sqrt(x)) : -x; }",
        "[Differentiable] public static double G(double[] a) { double s = 0; for (int i = a.Length - 1; i >= 0; i -= 2) s += a[i] * a[i]; return s; }",
        "[Differentiable] public static double H(double x) { double a = x, b = 2 * x, c = a * b; return c; }",
        "[Differentiable] public static void I(Span<double> u) { for (int i = 1; i < u.Length; i++) u[i] += u[i - 1] * u[i]; }",
        "[Differentiable] public static double J(double x) { int k = (int)x; double y = x - k; return y * y + k; }",
        "[Differentiable] public static double K(double x) { if (x > 0) { return x; } else { return -x; } }",
        "[Differentiable] public static double L(double x) { while (true) { x = x * 0.5; if (x < 1) return x; } }",
        "[Differentiable] public static float M(float x) { float y = (float)Math.Sin(x); return y * 2f + MathF.Cos(x); }",
        "[Differentiable] public static double N(double x) { double r = 0; switch ((int)x) { case 0: r = x; break; case 1: r = x * x; break; default: r = 1; break; } return r; }",
        "[Differentiable] public static double O(ReadOnlySpan<double> u, ReadOnlySpan<int> idx) { double s = 0; for (int i = 0; i < idx.Length; i++) s += u[idx[i]]; return s; }",
        "[Differentiable] public static double P(double x) { double[] t = new double[3]; t[0] = x; t[1] = t[0] * t[0]; t[2] = t[1] * t[0]; return t[2]; }",
        "[Differentiable] public static double Q(double x) { x *= x; x /= 3; x -= 1; x += x; return x; }",
        "[Differentiable] public static double R(double x) { for (int i = 0; i < 3; i++) { for (int j = 0; j < 3; j++) { if (j == i) continue; if (j > 1) break; x = x * 1.1 + j; } } return x; }",
        "[Differentiable] public static double S(double x) => x switch { > 0 => x, _ => -x };",
        "[Differentiable] public static double T(double x) { var f = (double y) => y * y; return f(x); }",
        "[Differentiable] public static double U(double x) { unsafe { double* p = &x; return *p; } }",
        "[Differentiable] public static double V(double x) { checked { return x * 2; } }",
        "[Differentiable] public static double W(double x) { return (x); }",
        "[Differentiable] public static double X(double x, double y) { return Math.Max(Math.Min(x, y), Math.Clamp(x * y, -1, 1)); }",
        "[Differentiable] public static long Y(long n, double x) { return n * 2; }",
        "[Differentiable] public static double Z(double x) { double s = 0; foreach (var c in \"abc\") s += x; return s; }",
        "[Differentiable] public static double AA(double x) { const int n = 3; double s = 0; for (int i = 0; i < n; i++) s += Math.Pow(x, i); return s; }",
        "[Differentiable] public static double AB(double x) { return AB(x - 1); }",
        "[Differentiable] public static double AC(double x, int d) { if (d <= 0) return x; return Math.Sin(AC(x, d - 1)); }",
        "[Differentiable] public static double AD(double x) { double y = x; { double z = y * 2; y = z; } { double z = y * 3; y = z; } return y; }",
        "[Differentiable] public static double AE(double x) { bool b = x > 1; if (b && x < 3 || !b) return x * x; return x; }",
        "[Differentiable] public static double AF(double x) { int i = 0; double s = 0; while (i++ < 3) s += x; return s; }",
        "[Differentiable] public static double AG(double x) { double s = 0; for (int i = 0; i < 4; ++i) s = s * x + 1; return s; }",
        "[Differentiable] public static double AH(double x) => double.IsNaN(x) ? 0 : x * 3;",
        "[Differentiable] public static double AI(double x) { return x % 2.5 + Math.Round(x) + Math.Truncate(x); }",
        "[Differentiable] public static void AJ(ReadOnlySpan<double> a, Span<double> b) { a.CopyTo(b); b.Fill(a[0]); b.Clear(); }",
        "[Differentiable] public static double AK(double x) { double y = 0; y = x > 1 ? AK2(x) : 0; return y; } [Differentiable] public static double AK2(double x) => x;",
        "[Differentiable] public static double AL(double x) { label: x = x + 1; if (x < 3) goto label; return x; }",
        "[Differentiable] public static double AM(double x) { try { return x; } finally { } }",
        "[Differentiable] public static double AN(double x) { return x",
        "[Differentiable] public static double AO(double x) { double ?? ; }",
        "[Differentiable] public static double AP(double x, params double[] y) => x;",
        "[Differentiable] public static double AQ<T>(double x) => x;",
        "[Differentiable] public static double AR(double x, ReadOnlySpan<double> u) { return u[^1] * x + u[1..2][0]; }",
        "[Differentiable] public static double AS(double x) { var t = (x, x); return t.Item1; }",
        "[Differentiable] public static double AT(double x) { double s = 0; for (int i = 0; i < 3; i++) { double z = i; z = z * x; s += z; } return s; }\n",
        "[Differentiable] public double InstanceMethod(double x) => x * x;",
        "[Differentiable] public static double Dyn(double x) { dynamic d = x; return x; }",
        "[Differentiable] public static async System.Threading.Tasks.Task<double> Async(double x) { await System.Threading.Tasks.Task.Yield(); return x; }",
        "[Differentiable] public static double Linq(double[] x) => System.Linq.Enumerable.Sum(x);",
        "[Differentiable] public static double Str(double x) { string s = x.ToString(); return x; }",
        "[Differentiable] public static double OutParam(double x, out double y) { y = x; return x; }",
        "[Differentiable] public static double RefLocal(double[] a) { ref double r = ref a[0]; r = 2; return a[0]; }",
        "[Differentiable] public static double Local(double x) { double F(double y) => y * y; return F(x); }",
        "[Differentiable] public static double StackAlloc(double x) { Span<double> s = stackalloc double[4]; s[0] = x; return s[0]; }",
        "[Differentiable] public static double Slice(ReadOnlySpan<double> u) => Sum(u.Slice(1)); [Differentiable] public static double Sum(ReadOnlySpan<double> u) { double s = 0; foreach (var v in u) s += v; return s; }",
        "[Differentiable] public static double Tuple(double x) { var (a, b) = (x, x); return a * b; }",
        "[Differentiable] public static double Lock(double x) { lock (typeof(C)) { return x; } }",
        "[Differentiable] public static double Yield(double x) { return x; } [Differentiable] public static System.Collections.Generic.IEnumerable<double> It(double x) { yield return x; }",
        "[Differentiable] public static double Huge(double x) => x * 0 + x * 1 + x * 2 + x * 3 + x * 4 + x * 5 + x * 6 + x * 7 + x * 8 + x * 9 + x * 10 + x * 11 + x * 12 + x * 13 + x * 14 + x * 15 + x * 16 + x * 17 + x * 18 + x * 19 + x * 20 + x * 21 + x * 22 + x * 23 + x * 24 + x * 25 + x * 26 + x * 27 + x * 28 + x * 29 + x * 30 + x * 31 + x * 32 + x * 33 + x * 34 + x * 35 + x * 36 + x * 37 + x * 38 + x * 39 + x * 40 + x * 41 + x * 42 + x * 43 + x * 44 + x * 45 + x * 46 + x * 47 + x * 48 + x * 49 + x * 50 + x * 51 + x * 52 + x * 53 + x * 54 + x * 55 + x * 56 + x * 57 + x * 58 + x * 59 + x * 60 + x * 61 + x * 62 + x * 63 + x * 64 + x * 65 + x * 66 + x * 67 + x * 68 + x * 69 + x * 70 + x * 71 + x * 72 + x * 73 + x * 74 + x * 75 + x * 76 + x * 77 + x * 78 + x * 79 + x * 80 + x * 81 + x * 82 + x * 83 + x * 84 + x * 85 + x * 86 + x * 87 + x * 88 + x * 89 + x * 90 + x * 91 + x * 92 + x * 93 + x * 94 + x * 95 + x * 96 + x * 97 + x * 98 + x * 99 + x * 100 + x * 101 + x * 102 + x * 103 + x * 104 + x * 105 + x * 106 + x * 107 + x * 108 + x * 109 + x * 110 + x * 111 + x * 112 + x * 113 + x * 114 + x * 115 + x * 116 + x * 117 + x * 118 + x * 119 + x * 120 + x * 121 + x * 122 + x * 123 + x * 124 + x * 125 + x * 126 + x * 127 + x * 128 + x * 129 + x * 130 + x * 131 + x * 132 + x * 133 + x * 134 + x * 135 + x * 136 + x * 137 + x * 138 + x * 139 + x * 140 + x * 141 + x * 142 + x * 143 + x * 144 + x * 145 + x * 146 + x * 147 + x * 148 + x * 149 + x * 150 + x * 151 + x * 152 + x * 153 + x * 154 + x * 155 + x * 156 + x * 157 + x * 158 + x * 159 + x * 160 + x * 161 + x * 162 + x * 163 + x * 164 + x * 165 + x * 166 + x * 167 + x * 168 + x * 169 + x * 170 + x * 171 + x * 172 + x * 173 + x * 174 + x * 175 + x * 176 + x * 177 + x * 178 + x * 179 + x * 180 + x * 181 + x * 182 + x * 183 + x * 184 + x * 185 + x * 186 + x * 187 + x * 188 + x * 189 + x * 190 + x * 191 + x * 192 + x * 193 + x * 194 + x * 195 + x * 196 + x * 197 + x * 198 + x * 199 + x * 200 + x * 201 + x * 202 + x * 203 + x * 204 + x * 205 + x * 206 + x * 207 + x * 208 + x * 209 + x * 210 + x * 211 + x * 212 + x * 213 + x * 214 + x * 215 + x * 216 + x * 217 + x * 218 + x * 219 + x * 220 + x * 221 + x * 222 + x * 223 + x * 224 + x * 225 + x * 226 + x * 227 + x * 228 + x * 229 + x * 230 + x * 231 + x * 232 + x * 233 + x * 234 + x * 235 + x * 236 + x * 237 + x * 238 + x * 239 + x * 240 + x * 241 + x * 242 + x * 243 + x * 244 + x * 245 + x * 246 + x * 247 + x * 248 + x * 249 + x * 250 + x * 251 + x * 252 + x * 253 + x * 254 + x * 255 + x * 256 + x * 257 + x * 258 + x * 259 + x * 260 + x * 261 + x * 262 + x * 263 + x * 264 + x * 265 + x * 266 + x * 267 + x * 268 + x * 269 + x * 270 + x * 271 + x * 272 + x * 273 + x * 274 + x * 275 + x * 276 + x * 277 + x * 278 + x * 279 + x * 280 + x * 281 + x * 282 + x * 283 + x * 284 + x * 285 + x * 286 + x * 287 + x * 288 + x * 289 + x * 290 + x * 291 + x * 292 + x * 293 + x * 294 + x * 295 + x * 296 + x * 297 + x * 298 + x * 299 + x * 300 + x * 301 + x * 302 + x * 303 + x * 304 + x * 305 + x * 306 + x * 307 + x * 308 + x * 309 + x * 310 + x * 311 + x * 312 + x * 313 + x * 314 + x * 315 + x * 316 + x * 317 + x * 318 + x * 319 + x * 320 + x * 321 + x * 322 + x * 323 + x * 324 + x * 325 + x * 326 + x * 327 + x * 328 + x * 329 + x * 330 + x * 331 + x * 332 + x * 333 + x * 334 + x * 335 + x * 336 + x * 337 + x * 338 + x * 339 + x * 340 + x * 341 + x * 342 + x * 343 + x * 344 + x * 345 + x * 346 + x * 347 + x * 348 + x * 349 + x * 350 + x * 351 + x * 352 + x * 353 + x * 354 + x * 355 + x * 356 + x * 357 + x * 358 + x * 359 + x * 360 + x * 361 + x * 362 + x * 363 + x * 364 + x * 365 + x * 366 + x * 367 + x * 368 + x * 369 + x * 370 + x * 371 + x * 372 + x * 373 + x * 374 + x * 375 + x * 376 + x * 377 + x * 378 + x * 379 + x * 380 + x * 381 + x * 382 + x * 383 + x * 384 + x * 385 + x * 386 + x * 387 + x * 388 + x * 389 + x * 390 + x * 391 + x * 392 + x * 393 + x * 394 + x * 395 + x * 396 + x * 397 + x * 398 + x * 399;",
        "[Differentiable] public static double Deep(double x) { for (int i0 = 0; i0 < 2; i0++) for (int i1 = 0; i1 < 2; i1++) for (int i2 = 0; i2 < 2; i2++) for (int i3 = 0; i3 < 2; i3++) for (int i4 = 0; i4 < 2; i4++) for (int i5 = 0; i5 < 2; i5++) for (int i6 = 0; i6 < 2; i6++) for (int i7 = 0; i7 < 2; i7++) for (int i8 = 0; i8 < 2; i8++) for (int i9 = 0; i9 < 2; i9++) for (int i10 = 0; i10 < 2; i10++) for (int i11 = 0; i11 < 2; i11++) x = x * 1.01; return x; }",
        "[Differentiable] public static double Unicode(double ÿx) { double ñ = ÿx * 2; return ñ; }",
        "[Differentiable] public static double Nameof(double x) => nameof(x).Length * x;",
        "[Differentiable] public static double Missing(double x) { return Undefined(x); }",
        "[Differentiable] public static double Empty(double x) { }",
        "[Differentiable] public static void EmptyVoid(double x) { }",
        "[Differentiable] public static double Obj(double x) { var o = new object(); return x; }",
        "[Differentiable] public static double Field(double x) => x * instanceField; double instanceField = 2;",
        "[Differentiable] public static double Prop(double x) => x * P; static double P => 2;",
        "[Differentiable] public static double Interp(double x) { var s = $\"{x}\"; return x; }",
        "[Differentiable] public static double Bitwise(double x, int k) => (k & 1) == 0 ? x : (k | 2) ^ 1;",
        "[Differentiable] public static double Pattern(double x) { if (x is > 0 and < 1) return x; return 0; }",
        "[Differentiable] public static double Throws(double x) { if (x < 0) throw new ArgumentOutOfRangeException(nameof(x)); return Math.Sqrt(x); }",
        "[Differentiable] public static double Goto2(double x) { switch ((int)x) { case 1: goto case 2; case 2: return x; } return 0; }",
        "[Differentiable] public static double MultiDim(double[,] a) => a[0, 0];",
        "[Differentiable] public static double Jagged(double[][] a) => a[0][0];",
        "[Differentiable] public static double Dec(decimal d, double x) => x;",
        "[Differentiable] public static double Ptr(double x) { unsafe { double* p = &x; return *p; } }",
        "[Differentiable] public static double Checked(int n, double x) { checked { n = n + 1; } return x * n; }",
        "[Differentiable] public static double ElementOfCall(double x) => Arr(x)[0]; static double[] Arr(double x) => new[] { x };",
        "[Differentiable] public static double Assignment(double x) { double y; double z = y = x; return z; }",
    ];

    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < Corpus.Length; i++) d.Add(i);
        return d;
    }

    [Fact]
    public void CorpusIsLarge() => Assert.True(Corpus.Length >= 30);

    [Theory]
    [MemberData(nameof(Indices))]
    public void Generator_NeverThrows_AndExplainsWhatItSkips(int index)
    {
        var source = "using System;\nusing DiffGen;\nnamespace R;\npublic static partial class C\n{\n" + Corpus[index] + "\n}\n";
        var result = TestCompilation.RunAllModes(source);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.GetMessage().Contains("internal error"));
        Assert.True(result.RunResult.Results.All(r => r.Exception is null));
        // Generated code never has errors of its own.
        var generatedErrors = result.Output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            .ToList();
        Assert.True(generatedErrors.Count == 0, string.Join("\n", generatedErrors));
        var dgErrors = result.GeneratorDiagnostics.Where(d => d.Id.StartsWith("DG", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error).ToList();
        bool sourceHasErrors = result.Input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
        if (!sourceHasErrors && dgErrors.Count == 0)
            Assert.NotEmpty(result.Sources); // supported: it generated code
        foreach (var d in dgErrors)
        {
            var span = d.Location.SourceSpan;
            int start = source.IndexOf("public static partial class C", StringComparison.Ordinal);
            Assert.True(span.Start >= start && span.End <= source.Length, $"{d.Id} outside the type: {d}");
        }
    }
}
