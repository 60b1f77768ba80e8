using F = MLExtensions.Diffusion.Onnx.OnnxProtoFields;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>Serialises a graph description to ONNX <c>ModelProto</c> bytes with <see cref="ProtobufWriter"/>.</summary>
internal static class OnnxModelEncoder
{
    /// <summary>Producer name written into every model.</summary>
    public const string ProducerName = "MLExtensions.Diffusion";

    /// <summary>Encodes a whole model.</summary>
    /// <param name="graphName">GraphProto.name.</param>
    /// <param name="inputs">Graph inputs.</param>
    /// <param name="outputs">Graph outputs.</param>
    /// <param name="initializers">Constant tensors.</param>
    /// <param name="nodes">Nodes in topological order.</param>
    /// <param name="metadata">ModelProto.metadata_props.</param>
    /// <param name="irVersion">ModelProto.ir_version.</param>
    /// <param name="opsetVersion">Version of the default ("") operator set.</param>
    /// <param name="useRawData">Store tensor contents in <c>raw_data</c> (true) or in the typed packed fields.</param>
    public static byte[] Encode(
        string graphName,
        IReadOnlyList<OnnxValueInfo> inputs,
        IReadOnlyList<OnnxValueInfo> outputs,
        IReadOnlyList<OnnxTensor> initializers,
        IReadOnlyList<OnnxNode> nodes,
        IReadOnlyList<KeyValuePair<string, string>> metadata,
        long irVersion,
        long opsetVersion,
        bool useRawData)
    {
        long payload = 0;
        foreach (var t in initializers)
            payload += (t.Floats?.LongLength ?? 0) * 4 + (t.Int64s?.LongLength ?? 0) * 8;
        var w = new ProtobufWriter((int)Math.Min(Array.MaxLength, payload + 4096 + 128L * nodes.Count));

        w.WriteInt64Field(F.Model.IrVersion, irVersion);
        w.WriteStringField(F.Model.ProducerName, ProducerName);
        w.WriteStringField(F.Model.ProducerVersion, typeof(OnnxModelEncoder).Assembly.GetName().Version?.ToString() ?? "0.0.0");

        w.BeginMessage(F.Model.Graph);
        foreach (var node in nodes)
            WriteNode(w, node, useRawData);
        w.WriteStringField(F.Graph.Name, graphName);
        foreach (var t in initializers)
        {
            w.BeginMessage(F.Graph.Initializer);
            WriteTensorBody(w, t, useRawData);
            w.EndMessage();
        }
        foreach (var v in inputs)
            WriteValueInfo(w, F.Graph.Input, v);
        foreach (var v in outputs)
            WriteValueInfo(w, F.Graph.Output, v);
        w.EndMessage();

        w.BeginMessage(F.Model.OpsetImport);
        w.WriteStringField(F.OperatorSetId.Domain, "");
        w.WriteInt64Field(F.OperatorSetId.Version, opsetVersion);
        w.EndMessage();

        foreach (var kv in metadata)
        {
            w.BeginMessage(F.Model.MetadataProps);
            w.WriteStringField(F.StringStringEntry.Key, kv.Key);
            w.WriteStringField(F.StringStringEntry.Value, kv.Value);
            w.EndMessage();
        }
        return w.ToArray();
    }

    private static void WriteNode(ProtobufWriter w, OnnxNode node, bool useRawData)
    {
        w.BeginMessage(F.Graph.Node);
        foreach (string input in node.Inputs)
            w.WriteStringField(F.Node.Input, input);
        foreach (string output in node.Outputs)
            w.WriteStringField(F.Node.Output, output);
        w.WriteStringField(F.Node.Name, node.Name);
        w.WriteStringField(F.Node.OpType, node.OpType);
        foreach (var a in node.Attributes)
            WriteAttribute(w, a, useRawData);
        if (node.Domain.Length > 0)
            w.WriteStringField(F.Node.Domain, node.Domain);
        w.EndMessage();
    }

    private static void WriteAttribute(ProtobufWriter w, OnnxAttribute a, bool useRawData)
    {
        w.BeginMessage(F.Node.Attribute);
        w.WriteStringField(F.Attribute.Name, a.Name);
        switch (a.Kind)
        {
            case OnnxAttribute.AttributeKind.Float:
                w.WriteFloatField(F.Attribute.F, a.FloatValue);
                break;
            case OnnxAttribute.AttributeKind.Int:
                w.WriteInt64Field(F.Attribute.I, a.IntValue);
                break;
            case OnnxAttribute.AttributeKind.String:
                w.WriteStringField(F.Attribute.S, a.StringValue!);
                break;
            case OnnxAttribute.AttributeKind.Tensor:
                w.BeginMessage(F.Attribute.T);
                WriteTensorBody(w, a.TensorValue!, useRawData);
                w.EndMessage();
                break;
            case OnnxAttribute.AttributeKind.Floats:
                w.WriteRepeatedFloats(F.Attribute.Floats, a.FloatsValue);
                break;
            case OnnxAttribute.AttributeKind.Ints:
                w.WriteRepeatedInt64s(F.Attribute.Ints, a.IntsValue);
                break;
            default:
                throw new InvalidOperationException($"Unknown attribute kind {a.Kind}.");
        }
        w.WriteInt64Field(F.Attribute.Type, (long)a.Kind);
        w.EndMessage();
    }

    private static void WriteTensorBody(ProtobufWriter w, OnnxTensor t, bool useRawData)
    {
        w.WriteRepeatedInt64s(F.Tensor.Dims, t.Dims);
        w.WriteInt64Field(F.Tensor.DataType, (long)t.ElementType);
        w.WriteStringField(F.Tensor.Name, t.Name);
        if (t.Floats is { } floats)
        {
            if (useRawData)
                w.WriteFloatsAsBytesField(F.Tensor.RawData, floats);
            else
                w.WritePackedFloats(F.Tensor.FloatData, floats);
        }
        else if (t.Int64s is { } longs)
        {
            if (useRawData)
                w.WriteInt64sAsBytesField(F.Tensor.RawData, longs);
            else
                w.WritePackedInt64s(F.Tensor.Int64Data, longs);
        }
    }

    private static void WriteValueInfo(ProtobufWriter w, int field, OnnxValueInfo v)
    {
        w.BeginMessage(field);
        w.WriteStringField(F.ValueInfo.Name, v.Name);
        w.BeginMessage(F.ValueInfo.Type);
        w.BeginMessage(F.Type.TensorType);
        w.WriteInt64Field(F.TensorType.ElemType, (long)v.ElementType);
        w.BeginMessage(F.TensorType.Shape);
        foreach (var d in v.Shape)
        {
            w.BeginMessage(F.TensorShape.Dim);
            if (d.Symbol is { } symbol)
                w.WriteStringField(F.Dimension.DimParam, symbol);
            else
                w.WriteInt64Field(F.Dimension.DimValue, d.Value);
            w.EndMessage();
        }
        w.EndMessage();
        w.EndMessage();
        w.EndMessage();
        w.EndMessage();
    }
}
