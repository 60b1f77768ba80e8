using System.Buffers.Binary;
using System.Text;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// A minimal protocol-buffers wire-format writer: varints, fixed32/fixed64, length-delimited fields,
/// packed repeated scalars and nested messages, written into one growable buffer.
/// </summary>
/// <remarks>
/// Only the subset needed to emit ONNX models is implemented. Nested messages are opened with
/// <see cref="BeginMessage"/> and closed with <see cref="EndMessage"/>; the length prefix is inserted
/// when the message is closed, by shifting its body (each byte moves once per nesting level, and ONNX
/// models nest at most a handful of levels). Wire format: https://protobuf.dev/programming-guides/encoding/.
/// </remarks>
internal sealed class ProtobufWriter
{
    /// <summary>Wire type 0: varint.</summary>
    public const int WireVarint = 0;

    /// <summary>Wire type 1: 64-bit little-endian.</summary>
    public const int WireFixed64 = 1;

    /// <summary>Wire type 2: length-delimited.</summary>
    public const int WireLengthDelimited = 2;

    /// <summary>Wire type 5: 32-bit little-endian.</summary>
    public const int WireFixed32 = 5;

    private byte[] _buffer;
    private int _length;
    private readonly Stack<(int Field, int BodyStart)> _open = new();

    /// <summary>Creates a writer with the given initial capacity in bytes.</summary>
    public ProtobufWriter(int initialCapacity = 256)
    {
        _buffer = new byte[Math.Max(16, initialCapacity)];
    }

    /// <summary>Number of bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Copies the finished encoding; throws if a nested message is still open.</summary>
    public byte[] ToArray()
    {
        if (_open.Count != 0)
            throw new InvalidOperationException($"{_open.Count} nested message(s) still open (innermost field {_open.Peek().Field}).");
        return _buffer.AsSpan(0, _length).ToArray();
    }

    /// <summary>Number of bytes the varint encoding of <paramref name="value"/> takes (1..10).</summary>
    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Writes a base-128 varint (least-significant group first).</summary>
    public void WriteVarint(ulong value)
    {
        EnsureCapacity(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_length++] = (byte)value;
    }

    /// <summary>Writes a field key: <c>(field &lt;&lt; 3) | wireType</c> as a varint.</summary>
    public void WriteTag(int field, int wireType)
    {
        if (field < 1 || field > 0x1FFFFFFF)
            throw new ArgumentOutOfRangeException(nameof(field), field, "Protobuf field numbers are 1 .. 2^29-1.");
        if (wireType is not (WireVarint or WireFixed64 or WireLengthDelimited or WireFixed32))
            throw new ArgumentOutOfRangeException(nameof(wireType), wireType, "Unsupported wire type.");
        WriteVarint(((ulong)(uint)field << 3) | (uint)wireType);
    }

    /// <summary>Writes an int64/int32/enum/bool field (negative values take ten bytes, as protobuf specifies for int64).</summary>
    public void WriteInt64Field(int field, long value)
    {
        WriteTag(field, WireVarint);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>Writes the raw little-endian 4 bytes of <paramref name="value"/>.</summary>
    public void WriteFixed32(uint value)
    {
        EnsureCapacity(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length, 4), value);
        _length += 4;
    }

    /// <summary>Writes the raw little-endian 8 bytes of <paramref name="value"/>.</summary>
    public void WriteFixed64(ulong value)
    {
        EnsureCapacity(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length, 8), value);
        _length += 8;
    }

    /// <summary>Writes a <c>float</c> field (wire type 5).</summary>
    public void WriteFloatField(int field, float value)
    {
        WriteTag(field, WireFixed32);
        WriteFixed32(BitConverter.SingleToUInt32Bits(value));
    }

    /// <summary>Writes a <c>double</c> field (wire type 1).</summary>
    public void WriteDoubleField(int field, double value)
    {
        WriteTag(field, WireFixed64);
        WriteFixed64(BitConverter.DoubleToUInt64Bits(value));
    }

    /// <summary>Writes a length-delimited <c>bytes</c> field.</summary>
    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a length-delimited UTF-8 <c>string</c> field.</summary>
    public void WriteStringField(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int byteCount = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)byteCount);
        EnsureCapacity(byteCount);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length, byteCount));
    }

    /// <summary>Writes a packed repeated <c>float</c> field (one length-delimited record of fixed32 values).</summary>
    public void WritePackedFloats(int field, ReadOnlySpan<float> values)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)values.Length * 4);
        WriteFloatsLittleEndian(values);
    }

    /// <summary>Writes a length-delimited field whose payload is the little-endian IEEE-754 bytes of <paramref name="values"/>.</summary>
    public void WriteFloatsAsBytesField(int field, ReadOnlySpan<float> values) => WritePackedFloats(field, values);

    /// <summary>Writes a length-delimited field whose payload is the little-endian two's-complement bytes of <paramref name="values"/>.</summary>
    public void WriteInt64sAsBytesField(int field, ReadOnlySpan<long> values)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)values.Length * 8);
        EnsureCapacity(checked(values.Length * 8));
        foreach (long v in values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length, 8), v);
            _length += 8;
        }
    }

    private void WriteFloatsLittleEndian(ReadOnlySpan<float> values)
    {
        int bytes = checked(values.Length * 4);
        EnsureCapacity(bytes);
        if (BitConverter.IsLittleEndian)
        {
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(_buffer.AsSpan(_length, bytes));
            _length += bytes;
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_length, 4), values[i]);
            _length += 4;
        }
    }

    /// <summary>Writes a packed repeated <c>int64</c> field (one length-delimited record of varints).</summary>
    public void WritePackedInt64s(int field, ReadOnlySpan<long> values)
    {
        ulong size = 0;
        foreach (long v in values)
            size += (ulong)VarintSize(unchecked((ulong)v));
        WriteTag(field, WireLengthDelimited);
        WriteVarint(size);
        foreach (long v in values)
            WriteVarint(unchecked((ulong)v));
    }

    /// <summary>Writes an unpacked repeated <c>float</c> field (one key per element; proto2's default).</summary>
    public void WriteRepeatedFloats(int field, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            WriteFloatField(field, v);
    }

    /// <summary>Writes an unpacked repeated <c>int64</c> field (one key per element; proto2's default).</summary>
    public void WriteRepeatedInt64s(int field, ReadOnlySpan<long> values)
    {
        foreach (long v in values)
            WriteInt64Field(field, v);
    }

    /// <summary>Opens a nested message in <paramref name="field"/>; close it with <see cref="EndMessage"/>.</summary>
    public void BeginMessage(int field)
    {
        WriteTag(field, WireLengthDelimited);
        _open.Push((field, _length));
    }

    /// <summary>Closes the innermost open message, inserting its varint length prefix.</summary>
    public void EndMessage()
    {
        if (_open.Count == 0)
            throw new InvalidOperationException("EndMessage without a matching BeginMessage.");
        var (_, bodyStart) = _open.Pop();
        int bodyLength = _length - bodyStart;
        int prefix = VarintSize((ulong)bodyLength);
        EnsureCapacity(prefix);
        Buffer.BlockCopy(_buffer, bodyStart, _buffer, bodyStart + prefix, bodyLength);
        ulong v = (ulong)bodyLength;
        int p = bodyStart;
        while (v >= 0x80)
        {
            _buffer[p++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[p] = (byte)v;
        _length += prefix;
    }

    /// <summary>Appends bytes verbatim.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void EnsureCapacity(int extra)
    {
        long needed = (long)_length + extra;
        if (needed <= _buffer.Length)
            return;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException("Protobuf message exceeds the maximum array size (protobuf itself limits messages to 2 GiB).");
        long newSize = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Array.MaxLength));
        Array.Resize(ref _buffer, (int)newSize);
    }
}
