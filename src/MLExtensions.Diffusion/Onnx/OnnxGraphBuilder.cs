namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Builds an ONNX graph (default operator set, version <see cref="OpsetVersion"/>) node by node and serialises it
/// to an <see cref="OnnxModel"/> without any code generation or Python.
/// </summary>
/// <remarks>
/// <para>Every method that creates a value returns its name; pass names on as inputs of later nodes. Each input of a
/// node must already exist (a graph input, an initializer or an earlier node's output), so nodes are always in
/// topological order, as ONNX requires. Generated names are unique within the builder.</para>
/// <para>Operator semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/) at opset 17,
/// which is the first opset with <c>LayerNormalization</c> and still has <c>ReduceMean</c>'s axes as an attribute.</para>
/// <example>A single MatMul model, e.g. for a micro-benchmark:
/// <code>
/// var g = new OnnxGraphBuilder("matmul");
/// string x = g.AddInput("x", OnnxElementType.Float, "N", 256);
/// string w = g.AddInitializer("w", weights, 256, 256);
/// g.AddOutput(g.MatMul(x, w), "y", OnnxElementType.Float, "N", 256);
/// using var session = OnnxSessionFactory.Create(g.Build());
/// </code></example>
/// </remarks>
public sealed class OnnxGraphBuilder
{
    /// <summary>Version of the default ONNX operator set the graph imports.</summary>
    public const int OpsetVersion = 17;

    /// <summary>ONNX IR version written into the model (IR 8 is the version released with opset 17, ONNX 1.12).</summary>
    public const long IrVersion = 8;

    private readonly string _graphName;
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputNames = new(StringComparer.Ordinal);
    private readonly List<OnnxValueInfo> _inputs = new();
    private readonly List<OnnxValueInfo> _outputs = new();
    private readonly List<OnnxTensor> _initializers = new();
    private readonly List<OnnxNode> _nodes = new();
    private readonly List<KeyValuePair<string, string>> _metadata = new();
    private readonly Dictionary<uint, string> _scalarConstants = new();
    private readonly Dictionary<string, int> _nameCounters = new(StringComparer.Ordinal);

    /// <summary>Creates an empty graph.</summary>
    /// <param name="graphName">Name stored in the graph.</param>
    /// <exception cref="ArgumentException"><paramref name="graphName"/> is null, empty or white space.</exception>
    public OnnxGraphBuilder(string graphName = "graph")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        _graphName = graphName;
    }

    /// <summary>Number of nodes added so far.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Number of initializers added so far.</summary>
    public int InitializerCount => _initializers.Count;

    /// <summary>Whether <paramref name="name"/> names an existing value (input, initializer or node output).</summary>
    /// <param name="name">The value name.</param>
    public bool HasValue(string name) => name is not null && _values.Contains(name);

    /// <summary>Returns <paramref name="hint"/> if no value has that name yet, otherwise <c>hint_k</c> for the smallest free k.</summary>
    /// <param name="hint">The preferred name.</param>
    /// <exception cref="ArgumentException"><paramref name="hint"/> is null, empty or white space.</exception>
    public string UniqueName(string hint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hint);
        if (!_values.Contains(hint) && !_nodeNames.Contains(hint))
            return hint;
        _nameCounters.TryGetValue(hint, out int k);
        string candidate;
        do
        {
            k++;
            candidate = $"{hint}_{k}";
        }
        while (_values.Contains(candidate) || _nodeNames.Contains(candidate));
        _nameCounters[hint] = k;
        return candidate;
    }

    /// <summary>Adds a graph input.</summary>
    /// <param name="name">Input name (must be unused; this is the name callers feed at run time).</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="shape">Dimensions; a string such as <c>"N"</c> makes a symbolic (run-time) dimension.</param>
    /// <returns><paramref name="name"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already used, or <paramref name="elementType"/> is undefined.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    public string AddInput(string name, OnnxElementType elementType, params OnnxDim[] shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        ValidateElementType(elementType, nameof(elementType));
        ClaimValueName(name, nameof(name));
        _inputs.Add(new OnnxValueInfo(name, elementType, (OnnxDim[])shape.Clone()));
        return name;
    }

    /// <summary>Marks an existing value as a graph output under its own name.</summary>
    /// <param name="value">An existing value.</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="shape">Dimensions; a string makes a symbolic dimension.</param>
    /// <returns>The output name (= <paramref name="value"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="value"/> is unknown or already an output, or <paramref name="elementType"/> is undefined.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    public string AddOutput(string value, OnnxElementType elementType, params OnnxDim[] shape) =>
        AddOutput(value, value, elementType, shape);

    /// <summary>
    /// Makes an existing value a graph output named <paramref name="outputName"/> (inserting an Identity node when the
    /// names differ).
    /// </summary>
    /// <param name="value">An existing value.</param>
    /// <param name="outputName">The output name callers fetch at run time.</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="shape">Dimensions; a string makes a symbolic dimension.</param>
    /// <returns><paramref name="outputName"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="value"/> is unknown, <paramref name="outputName"/> is empty or already
    /// used, or <paramref name="elementType"/> is undefined.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    public string AddOutput(string value, string outputName, OnnxElementType elementType, params OnnxDim[] shape)
    {
        RequireValue(value, nameof(value));
        ArgumentException.ThrowIfNullOrWhiteSpace(outputName);
        ArgumentNullException.ThrowIfNull(shape);
        ValidateElementType(elementType, nameof(elementType));
        if (_outputNames.Contains(outputName))
            throw new ArgumentException($"'{outputName}' is already a graph output.", nameof(outputName));
        if (outputName != value)
        {
            ClaimValueName(outputName, nameof(outputName));
            AppendNode("Identity", new[] { value }, new[] { outputName }, Array.Empty<OnnxAttribute>(), "");
        }
        _outputNames.Add(outputName);
        _outputs.Add(new OnnxValueInfo(outputName, elementType, (OnnxDim[])shape.Clone()));
        return outputName;
    }

    /// <summary>Adds a float constant tensor (row-major) and returns its unique name.</summary>
    /// <param name="nameHint">Preferred name.</param>
    /// <param name="values">Finite values; their count must equal the product of <paramref name="dims"/>.</param>
    /// <param name="dims">Dimensions; empty for a scalar.</param>
    /// <returns>The initializer's name.</returns>
    /// <exception cref="ArgumentException">A value is not finite, a dimension is negative, or the count does not match.</exception>
    public string AddInitializer(string nameHint, ReadOnlySpan<float> values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        CheckCount(values.Length, dims);
        var copy = values.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (!float.IsFinite(copy[i]))
                throw new ArgumentException($"Initializer '{nameHint}' value [{i}] must be finite, got {copy[i]}.", nameof(values));
        string name = UniqueName(nameHint);
        _values.Add(name);
        _initializers.Add(OnnxTensor.FromFloats(name, copy, (long[])dims.Clone()));
        return name;
    }

    /// <summary>Adds a float constant tensor from double values (rounded to float) and returns its unique name.</summary>
    /// <param name="nameHint">Preferred name.</param>
    /// <param name="values">Values, finite after rounding to float; their count must equal the product of <paramref name="dims"/>.</param>
    /// <param name="dims">Dimensions; empty for a scalar.</param>
    /// <returns>The initializer's name.</returns>
    /// <exception cref="ArgumentException">A value is not finite as a float, a dimension is negative, or the count does not match.</exception>
    public string AddInitializer(string nameHint, ReadOnlySpan<double> values, params long[] dims)
    {
        var f = new float[values.Length];
        for (int i = 0; i < f.Length; i++)
            f[i] = (float)values[i];
        return AddInitializer(nameHint, (ReadOnlySpan<float>)f, dims);
    }

    /// <summary>Adds an int64 constant tensor (e.g. a shape or axes) and returns its unique name.</summary>
    /// <param name="nameHint">Preferred name.</param>
    /// <param name="values">Values; their count must equal the product of <paramref name="dims"/>.</param>
    /// <param name="dims">Dimensions; empty for a scalar.</param>
    /// <returns>The initializer's name.</returns>
    /// <exception cref="ArgumentException">A dimension is negative or the count does not match.</exception>
    public string AddInt64Initializer(string nameHint, ReadOnlySpan<long> values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        CheckCount(values.Length, dims);
        string name = UniqueName(nameHint);
        _values.Add(name);
        _initializers.Add(OnnxTensor.FromInt64s(name, values.ToArray(), (long[])dims.Clone()));
        return name;
    }

    /// <summary>A float scalar produced by a <c>Constant</c> node; equal values share one node.</summary>
    /// <param name="value">Finite value.</param>
    /// <returns>The scalar's name (shape []).</returns>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not finite.</exception>
    public string Constant(float value)
    {
        if (!float.IsFinite(value))
            throw new ArgumentException($"Constant must be finite, got {value}.", nameof(value));
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (_scalarConstants.TryGetValue(bits, out string? existing))
            return existing;
        string output = UniqueName("const");
        var tensor = OnnxTensor.FromFloats(output, new[] { value }, Array.Empty<long>());
        _values.Add(output);
        AppendNode("Constant", Array.Empty<string>(), new[] { output }, new[] { OnnxAttribute.Tensor("value", tensor) }, "");
        _scalarConstants[bits] = output;
        return output;
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    /// <param name="opType">Operator name, e.g. <c>"MatMul"</c>.</param>
    /// <param name="inputs">Existing value names; <c>""</c> marks an omitted optional input.</param>
    /// <param name="attributes">Node attributes.</param>
    /// <returns>The output's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="opType"/> is empty or an input is unknown.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> or <paramref name="attributes"/> is null.</exception>
    public string AddNode(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
        AddNode(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs and returns their names.</summary>
    /// <param name="opType">Operator name.</param>
    /// <param name="inputs">Existing value names; <c>""</c> marks an omitted optional input.</param>
    /// <param name="outputCount">Number of outputs (at least 1).</param>
    /// <param name="attributes">Node attributes.</param>
    /// <param name="domain">Operator-set domain; <c>""</c> is the default ONNX domain.</param>
    /// <returns>The output names.</returns>
    /// <exception cref="ArgumentException"><paramref name="opType"/> is empty, an input is unknown, or an attribute name repeats.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputCount"/> is less than 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/>, <paramref name="attributes"/> or <paramref name="domain"/> is null.</exception>
    public IReadOnlyList<string> AddNode(string opType, IReadOnlyList<string> inputs, int outputCount, OnnxAttribute[] attributes, string domain = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        var inputArray = new string[inputs.Count];
        for (int i = 0; i < inputArray.Length; i++)
        {
            string input = inputs[i];
            if (input is null || (input.Length > 0 && !_values.Contains(input)))
                throw new ArgumentException($"Input {i} of {opType} ('{input}') is not a value of this graph; add it as an input, initializer or node output first.", nameof(inputs));
            inputArray[i] = input;
        }
        var attributeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in attributes)
        {
            ArgumentNullException.ThrowIfNull(a, nameof(attributes));
            if (!attributeNames.Add(a.Name))
                throw new ArgumentException($"Attribute '{a.Name}' of {opType} is given twice.", nameof(attributes));
        }
        var outputs = new string[outputCount];
        string hint = opType.ToLowerInvariant();
        for (int k = 0; k < outputCount; k++)
        {
            outputs[k] = UniqueName(hint);
            _values.Add(outputs[k]);
        }
        AppendNode(opType, inputArray, outputs, (OnnxAttribute[])attributes.Clone(), domain);
        return outputs;
    }

    /// <summary>Matrix product with NumPy broadcasting: <c>a @ b</c>.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <returns>The product's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string MatMul(string a, string b) => AddNode("MatMul", new[] { a, b });

    /// <summary>General matrix multiply: <c>alpha * op(a) @ op(b) + beta * c</c> for 2-D <paramref name="a"/>, <paramref name="b"/>.</summary>
    /// <param name="a">Left matrix [M,K] (or [K,M] when <paramref name="transA"/>).</param>
    /// <param name="b">Right matrix [K,N] (or [N,K] when <paramref name="transB"/>).</param>
    /// <param name="c">Optional bias broadcastable to [M,N], or <see langword="null"/>.</param>
    /// <param name="transA">Transpose <paramref name="a"/>.</param>
    /// <param name="transB">Transpose <paramref name="b"/>.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the bias.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown, or a scale is not finite.</exception>
    public string Gemm(string a, string b, string? c = null, bool transA = false, bool transB = false, float alpha = 1f, float beta = 1f)
    {
        if (!float.IsFinite(alpha))
            throw new ArgumentException($"alpha must be finite, got {alpha}.", nameof(alpha));
        if (!float.IsFinite(beta))
            throw new ArgumentException($"beta must be finite, got {beta}.", nameof(beta));
        var attributes = new List<OnnxAttribute>();
        if (alpha != 1f)
            attributes.Add(OnnxAttribute.Float("alpha", alpha));
        if (beta != 1f)
            attributes.Add(OnnxAttribute.Float("beta", beta));
        if (transA)
            attributes.Add(OnnxAttribute.Int("transA", 1));
        if (transB)
            attributes.Add(OnnxAttribute.Int("transB", 1));
        string[] inputs = c is null ? new[] { a, b } : new[] { a, b, c };
        return AddNode("Gemm", inputs, attributes.ToArray());
    }

    /// <summary>Element-wise <c>a + b</c> with broadcasting.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Add(string a, string b) => AddNode("Add", new[] { a, b });

    /// <summary>Element-wise <c>a - b</c> with broadcasting.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Sub(string a, string b) => AddNode("Sub", new[] { a, b });

    /// <summary>Element-wise <c>a * b</c> with broadcasting.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Mul(string a, string b) => AddNode("Mul", new[] { a, b });

    /// <summary>Element-wise <c>a / b</c> with broadcasting.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Div(string a, string b) => AddNode("Div", new[] { a, b });

    /// <summary>Element-wise logistic sigmoid <c>1 / (1 + exp(-x))</c>.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Sigmoid(string x) => AddNode("Sigmoid", new[] { x });

    /// <summary>Element-wise SiLU (swish) <c>x * sigmoid(x)</c>, as Sigmoid followed by Mul.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Silu(string x) => Mul(x, Sigmoid(x));

    /// <summary>Element-wise sine.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Sin(string x) => AddNode("Sin", new[] { x });

    /// <summary>Element-wise cosine.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Cos(string x) => AddNode("Cos", new[] { x });

    /// <summary>Element-wise exponential.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Exp(string x) => AddNode("Exp", new[] { x });

    /// <summary>Element-wise natural logarithm.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Log(string x) => AddNode("Log", new[] { x });

    /// <summary>Element-wise square root.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Sqrt(string x) => AddNode("Sqrt", new[] { x });

    /// <summary>Identity (a renamed alias of <paramref name="x"/>).</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Identity(string x) => AddNode("Identity", new[] { x });

    /// <summary>Concatenates tensors along <paramref name="axis"/>.</summary>
    /// <param name="axis">Axis (negative counts from the end).</param>
    /// <param name="inputs">At least one operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty or an operand is unknown.</exception>
    public string Concat(long axis, params string[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0)
            throw new ArgumentException("Concat needs at least one input.", nameof(inputs));
        return AddNode("Concat", inputs, OnnxAttribute.Int("axis", axis));
    }

    /// <summary>The shape of <paramref name="x"/> as a 1-D int64 tensor.</summary>
    /// <param name="x">Operand.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Shape(string x) => AddNode("Shape", new[] { x });

    /// <summary>Reshapes <paramref name="x"/> to the shape held by the int64 tensor <paramref name="shape"/>.</summary>
    /// <param name="x">Operand.</param>
    /// <param name="shape">1-D int64 value (0 copies the input dimension, -1 is inferred).</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Reshape(string x, string shape) => AddNode("Reshape", new[] { x, shape });

    /// <summary>Reshapes <paramref name="x"/> to a constant shape (0 copies the input dimension, -1 is inferred).</summary>
    /// <param name="x">Operand.</param>
    /// <param name="shape">Target shape.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown.</exception>
    public string Reshape(string x, ReadOnlySpan<long> shape) =>
        Reshape(x, AddInt64Initializer("shape", shape, shape.Length));

    /// <summary>Inserts size-1 axes (opset 13+: axes are an input).</summary>
    /// <param name="x">Operand.</param>
    /// <param name="axes">Axes of the output to insert.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown or <paramref name="axes"/> is empty.</exception>
    public string Unsqueeze(string x, ReadOnlySpan<long> axes)
    {
        if (axes.IsEmpty)
            throw new ArgumentException("Unsqueeze needs at least one axis.", nameof(axes));
        return AddNode("Unsqueeze", new[] { x, AddInt64Initializer("axes", axes, axes.Length) });
    }

    /// <summary>Broadcasts <paramref name="x"/> to the shape held by the int64 tensor <paramref name="shape"/>.</summary>
    /// <param name="x">Operand.</param>
    /// <param name="shape">1-D int64 value, e.g. from <see cref="Shape"/>.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    public string Expand(string x, string shape) => AddNode("Expand", new[] { x, shape });

    /// <summary>
    /// Layer normalisation over the axes from <paramref name="axis"/> to the last:
    /// <c>(x - mean) / sqrt(var + epsilon) * scale + bias</c> (opset 17).
    /// </summary>
    /// <param name="x">Operand.</param>
    /// <param name="scale">Scale (gamma), shaped like the normalised axes.</param>
    /// <param name="bias">Optional bias (beta), or <see langword="null"/>.</param>
    /// <param name="axis">First normalised axis (default: last axis).</param>
    /// <param name="epsilon">Positive variance floor.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException">An operand is unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is not positive and finite.</exception>
    public string LayerNormalization(string x, string scale, string? bias = null, long axis = -1, float epsilon = 1e-5f)
    {
        if (!(epsilon > 0f) || !float.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive and finite.");
        string[] inputs = bias is null ? new[] { x, scale } : new[] { x, scale, bias };
        return AddNode("LayerNormalization", inputs, 1,
            new[] { OnnxAttribute.Int("axis", axis), OnnxAttribute.Float("epsilon", epsilon) })[0];
    }

    /// <summary>Mean over <paramref name="axes"/> (opset 17: axes are an attribute).</summary>
    /// <param name="x">Operand.</param>
    /// <param name="axes">Reduced axes (negative counts from the end).</param>
    /// <param name="keepDims">Keep reduced axes with size 1.</param>
    /// <returns>The result's name.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is unknown or <paramref name="axes"/> is empty.</exception>
    public string ReduceMean(string x, ReadOnlySpan<long> axes, bool keepDims = true)
    {
        if (axes.IsEmpty)
            throw new ArgumentException("ReduceMean needs at least one axis.", nameof(axes));
        return AddNode("ReduceMean", new[] { x },
            OnnxAttribute.Ints("axes", axes), OnnxAttribute.Int("keepdims", keepDims ? 1 : 0));
    }

    /// <summary>Adds a <c>metadata_props</c> entry to the model.</summary>
    /// <param name="key">Distinct key.</param>
    /// <param name="value">Value.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already present.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public void SetMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(value);
        foreach (var kv in _metadata)
            if (kv.Key == key)
                throw new ArgumentException($"Metadata key '{key}' is already set.", nameof(key));
        _metadata.Add(new KeyValuePair<string, string>(key, value));
    }

    /// <summary>Serialises the graph to a model (IR <see cref="IrVersion"/>, opset <see cref="OpsetVersion"/>).</summary>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidOperationException">The graph has no output, or an initializer is read by no node and is
    /// no output (ONNX Runtime would drop it with a warning at every session start: a builder bug, not kept silent).</exception>
    public OnnxModel Build() => Build(useRawData: true);

    internal OnnxModel Build(bool useRawData)
    {
        if (_outputs.Count == 0)
            throw new InvalidOperationException($"Graph '{_graphName}' has no outputs; call AddOutput first.");
        var read = new HashSet<string>(_nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        read.UnionWith(_outputs.Select(o => o.Name));
        var unused = _initializers.Where(t => !read.Contains(t.Name)).Select(t => t.Name).ToArray();
        if (unused.Length > 0)
            throw new InvalidOperationException($"Graph '{_graphName}' has initializers that no node reads: {string.Join(", ", unused.Take(10))}" +
                                                (unused.Length > 10 ? $" and {unused.Length - 10} more." : "."));
        byte[] bytes = OnnxModelEncoder.Encode(_graphName, _inputs, _outputs, _initializers, _nodes, _metadata, IrVersion, OpsetVersion, useRawData);
        return new OnnxModel(bytes, _inputs.Select(i => i.Name).ToArray(), _outputs.Select(o => o.Name).ToArray(), IrVersion, OpsetVersion);
    }

    private void AppendNode(string opType, string[] inputs, string[] outputs, OnnxAttribute[] attributes, string domain)
    {
        string nodeName = UniqueName(opType + "_node");
        _nodeNames.Add(nodeName);
        _nodes.Add(new OnnxNode(nodeName, opType, domain, inputs, outputs, attributes));
    }

    private void ClaimValueName(string name, string paramName)
    {
        if (_values.Contains(name) || _nodeNames.Contains(name))
            throw new ArgumentException($"The name '{name}' is already used in this graph.", paramName);
        _values.Add(name);
    }

    private void RequireValue(string name, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, paramName);
        if (!_values.Contains(name))
            throw new ArgumentException($"'{name}' is not a value of this graph.", paramName);
    }

    private static void ValidateElementType(OnnxElementType type, string paramName)
    {
        if (!Enum.IsDefined(type))
            throw new ArgumentException($"Unsupported element type {(int)type}.", paramName);
    }

    private static void CheckCount(int count, long[] dims)
    {
        long product = 1;
        foreach (long d in dims)
        {
            if (d < 0)
                throw new ArgumentException($"Dimensions must be non-negative, got [{string.Join(", ", dims)}].", nameof(dims));
            product = checked(product * d);
        }
        if (product != count)
            throw new ArgumentException($"Dimensions [{string.Join(", ", dims)}] hold {product} elements but {count} values were given.", nameof(dims));
    }
}
