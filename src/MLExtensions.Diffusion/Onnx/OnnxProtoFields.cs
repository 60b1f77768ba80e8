namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Field numbers and enum values of the ONNX protobuf schema (onnx/onnx.proto, a proto2 file), limited to the
/// subset this library writes. Checked against onnx.proto of the onnx/onnx repository.
/// </summary>
/// <remarks>
/// onnx.proto is proto2: repeated scalars are unpacked unless declared <c>[packed = true]</c>, which only
/// TensorProto's <c>*_data</c> fields are. Parsers accept both encodings, but the writer follows the declaration.
/// </remarks>
internal static class OnnxProtoFields
{
    /// <summary>ModelProto fields.</summary>
    public static class Model
    {
        public const int IrVersion = 1;
        public const int ProducerName = 2;
        public const int ProducerVersion = 3;
        public const int Domain = 4;
        public const int ModelVersion = 5;
        public const int DocString = 6;
        public const int Graph = 7;
        public const int OpsetImport = 8;
        public const int MetadataProps = 14;
    }

    /// <summary>OperatorSetIdProto fields.</summary>
    public static class OperatorSetId
    {
        public const int Domain = 1;
        public const int Version = 2;
    }

    /// <summary>StringStringEntryProto fields.</summary>
    public static class StringStringEntry
    {
        public const int Key = 1;
        public const int Value = 2;
    }

    /// <summary>GraphProto fields.</summary>
    public static class Graph
    {
        public const int Node = 1;
        public const int Name = 2;
        public const int Initializer = 5;
        public const int DocString = 10;
        public const int Input = 11;
        public const int Output = 12;
        public const int ValueInfo = 13;
    }

    /// <summary>NodeProto fields.</summary>
    public static class Node
    {
        public const int Input = 1;
        public const int Output = 2;
        public const int Name = 3;
        public const int OpType = 4;
        public const int Attribute = 5;
        public const int DocString = 6;
        public const int Domain = 7;
    }

    /// <summary>AttributeProto fields.</summary>
    public static class Attribute
    {
        public const int Name = 1;
        public const int F = 2;
        public const int I = 3;
        public const int S = 4;
        public const int T = 5;
        public const int Floats = 7;
        public const int Ints = 8;
        public const int Type = 20;
    }

    /// <summary>AttributeProto.AttributeType values.</summary>
    public static class AttributeType
    {
        public const int Float = 1;
        public const int Int = 2;
        public const int String = 3;
        public const int Tensor = 4;
        public const int Floats = 6;
        public const int Ints = 7;
    }

    /// <summary>TensorProto fields.</summary>
    public static class Tensor
    {
        public const int Dims = 1;
        public const int DataType = 2;
        public const int FloatData = 4;
        public const int Int64Data = 7;
        public const int Name = 8;
        public const int RawData = 9;
    }

    /// <summary>ValueInfoProto fields.</summary>
    public static class ValueInfo
    {
        public const int Name = 1;
        public const int Type = 2;
    }

    /// <summary>TypeProto fields.</summary>
    public static class Type
    {
        public const int TensorType = 1;
    }

    /// <summary>TypeProto.Tensor fields.</summary>
    public static class TensorType
    {
        public const int ElemType = 1;
        public const int Shape = 2;
    }

    /// <summary>TensorShapeProto fields.</summary>
    public static class TensorShape
    {
        public const int Dim = 1;
    }

    /// <summary>TensorShapeProto.Dimension fields.</summary>
    public static class Dimension
    {
        public const int DimValue = 1;
        public const int DimParam = 2;
    }
}
