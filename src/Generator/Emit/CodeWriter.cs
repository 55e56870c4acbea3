using System.Text;

namespace DiffGen.Generator.Emit
{
    /// <summary>A minimal indented text writer (four spaces, \n line endings, deterministic).</summary>
    internal sealed class CodeWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        public int Indent => _indent;

        public void Line(string text = "")
        {
            if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
            _sb.Append('\n');
        }

        public void Open(string header)
        {
            Line(header);
            Line("{");
            _indent++;
        }

        public void Open()
        {
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        public void Append(CodeWriter other)
        {
            foreach (var line in other.ToString().Split('\n'))
            {
                if (line.Length == 0) continue;
                _sb.Append(' ', _indent * 4).Append(line).Append('\n');
            }
        }

        public override string ToString() => _sb.ToString();
    }
}
