using System.Text;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>Hand-encodes the protobuf bytes of an ONNX model with one MatMul node: C[m,n] = A[m,k] B[k,n].</summary>
internal static class OnnxMatMulModel
{
    public static byte[] Build(int m, int n, int k)
    {
        var node = Concat(Str(1, "A"), Str(1, "B"), Str(2, "C"), Str(4, "MatMul"));
        var graph = Concat(
            Msg(1, node),
            Str(2, "matmul"),
            Msg(11, ValueInfo("A", m, k)),
            Msg(11, ValueInfo("B", k, n)),
            Msg(12, ValueInfo("C", m, n)));
        var opset = Concat(Str(1, ""), VarintField(2, 13));
        return Concat(VarintField(1, 8), Msg(8, opset), Msg(7, graph));
    }

    private static byte[] ValueInfo(string name, int rows, int cols)
    {
        var shape = Concat(Msg(1, VarintField(1, rows)), Msg(1, VarintField(1, cols)));
        var tensor = Concat(VarintField(1, 1), Msg(2, shape));
        var type = Msg(1, tensor);
        return Concat(Str(1, name), Msg(2, type));
    }

    private static byte[] Str(int field, string s) => Msg(field, Encoding.UTF8.GetBytes(s));

    private static byte[] Msg(int field, byte[] payload) => Concat(Varint((ulong)(field << 3 | 2)), Varint((ulong)payload.Length), payload);

    private static byte[] VarintField(int field, long value) => Concat(Varint((ulong)(field << 3)), Varint((ulong)value));

    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            if (v != 0) b |= 0x80;
            bytes.Add(b);
        } while (v != 0);
        return bytes.ToArray();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
