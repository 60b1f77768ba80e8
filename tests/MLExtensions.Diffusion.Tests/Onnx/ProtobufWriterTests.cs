using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class ProtobufWriterTests
{
    private static byte[] Varint(ulong v)
    {
        var w = new ProtobufWriter();
        w.WriteVarint(v);
        return w.ToArray();
    }

    // Expected bytes from the protobuf encoding guide (https://protobuf.dev/programming-guides/encoding/).
    [Theory]
    [InlineData(0UL, new byte[] { 0x00 })]
    [InlineData(1UL, new byte[] { 0x01 })]
    [InlineData(127UL, new byte[] { 0x7F })]
    [InlineData(128UL, new byte[] { 0x80, 0x01 })]
    [InlineData(150UL, new byte[] { 0x96, 0x01 })]
    [InlineData(300UL, new byte[] { 0xAC, 0x02 })]
    [InlineData(16384UL, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void VarintMatchesKnownEncodings(ulong value, byte[] expected)
    {
        Assert.Equal(expected, Varint(value));
        Assert.Equal(expected.Length, ProtobufWriter.VarintSize(value));
    }

    [Fact]
    public void VarintRoundTripsThroughIndependentDecoder()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 2000; trial++)
        {
            int bits = random.Next(0, 65);
            ulong r = ((ulong)random.NextInt64() << 1) ^ (ulong)random.Next();
            ulong v = bits == 0 ? 0 : (r >> (64 - bits)) | (1UL << (bits - 1)); // exactly `bits` significant bits
            var bytes = Varint(v);
            ulong decoded = 0;
            int shift = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                decoded |= (ulong)(bytes[i] & 0x7F) << shift;
                shift += 7;
                bool last = i == bytes.Length - 1;
                Assert.Equal(last, (bytes[i] & 0x80) == 0);
            }
            Assert.Equal(v, decoded);
            Assert.Equal(Math.Max(1, (bits + 6) / 7), bytes.Length);
        }
    }

    [Fact]
    public void NegativeInt64FieldTakesTenBytes()
    {
        var w = new ProtobufWriter();
        w.WriteInt64Field(3, -1);
        Assert.Equal(new byte[] { 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, w.ToArray());
    }

    [Theory]
    [InlineData(1, ProtobufWriter.WireLengthDelimited, new byte[] { 0x0A })]
    [InlineData(1, ProtobufWriter.WireVarint, new byte[] { 0x08 })]
    [InlineData(2, ProtobufWriter.WireFixed32, new byte[] { 0x15 })]
    [InlineData(14, ProtobufWriter.WireLengthDelimited, new byte[] { 0x72 })]
    [InlineData(16, ProtobufWriter.WireVarint, new byte[] { 0x80, 0x01 })]
    [InlineData(20, ProtobufWriter.WireVarint, new byte[] { 0xA0, 0x01 })]
    public void TagIsFieldShiftedOrWireType(int field, int wire, byte[] expected)
    {
        var w = new ProtobufWriter();
        w.WriteTag(field, wire);
        Assert.Equal(expected, w.ToArray());
    }

    [Fact]
    public void TagRejectsInvalidFieldNumbers()
    {
        var w = new ProtobufWriter();
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteTag(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteTag(1, 3));
    }

    [Fact]
    public void StringFieldIsLengthPrefixedUtf8()
    {
        var w = new ProtobufWriter();
        w.WriteStringField(2, "testing");
        Assert.Equal(new byte[] { 0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67 }, w.ToArray());

        var u = new ProtobufWriter();
        u.WriteStringField(1, "σ");
        Assert.Equal(new byte[] { 0x0A, 0x02, 0xCF, 0x83 }, u.ToArray());
    }

    [Fact]
    public void FloatAndDoubleFieldsAreLittleEndianIeee()
    {
        var w = new ProtobufWriter();
        w.WriteFloatField(2, 1.0f);
        w.WriteDoubleField(1, -2.0);
        Assert.Equal(new byte[] { 0x15, 0x00, 0x00, 0x80, 0x3F, 0x09, 0, 0, 0, 0, 0, 0, 0x00, 0xC0 }, w.ToArray());
    }

    [Fact]
    public void PackedInt64sMatchGuideExample()
    {
        var w = new ProtobufWriter();
        w.WritePackedInt64s(4, new long[] { 3, 270, 86942 });
        Assert.Equal(new byte[] { 0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05 }, w.ToArray());
    }

    [Fact]
    public void PackedFloatsAreOneLengthDelimitedRecord()
    {
        var w = new ProtobufWriter();
        w.WritePackedFloats(4, new[] { 1.0f, -2.5f });
        Assert.Equal(new byte[] { 0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0 }, w.ToArray());
    }

    [Fact]
    public void UnpackedRepeatedFieldsRepeatTheKey()
    {
        var w = new ProtobufWriter();
        w.WriteRepeatedInt64s(8, new long[] { 1, 300 });
        Assert.Equal(new byte[] { 0x40, 0x01, 0x40, 0xAC, 0x02 }, w.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(20000)]
    public void NestedMessageGetsCorrectLengthPrefix(int bodyLength)
    {
        var body = new byte[bodyLength];
        new Random(bodyLength).NextBytes(body);
        var w = new ProtobufWriter(16);
        w.WriteInt64Field(1, 9);
        w.BeginMessage(7);
        w.WriteRaw(body);
        w.EndMessage();
        w.WriteInt64Field(2, 5);

        var expected = new List<byte> { 0x08, 0x09, 0x3A };
        expected.AddRange(Varint((ulong)bodyLength));
        expected.AddRange(body);
        expected.AddRange(new byte[] { 0x10, 0x05 });
        Assert.Equal(expected.ToArray(), w.ToArray());
    }

    [Fact]
    public void DoublyNestedLengthsIncludeInnerPrefix()
    {
        // Outer { inner { 130 bytes } }: inner record is tag(1) + len(2) + 130 = 133 bytes, so outer prefix is 133 = 0x85 0x01.
        var w = new ProtobufWriter();
        w.BeginMessage(1);
        w.BeginMessage(2);
        w.WriteRaw(new byte[130]);
        w.EndMessage();
        w.EndMessage();
        var bytes = w.ToArray();
        Assert.Equal(new byte[] { 0x0A, 0x85, 0x01, 0x12, 0x82, 0x01 }, bytes[..6]);
        Assert.Equal(6 + 130, bytes.Length);
    }

    [Fact]
    public void UnbalancedMessagesAreRejected()
    {
        var w = new ProtobufWriter();
        Assert.Throws<InvalidOperationException>(() => w.EndMessage());
        w.BeginMessage(1);
        Assert.Throws<InvalidOperationException>(() => w.ToArray());
    }
}
