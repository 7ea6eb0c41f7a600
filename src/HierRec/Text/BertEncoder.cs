using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>The layer stack (<c>encoder.layer.*</c>).</summary>
public sealed class BertEncoder : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates num_hidden_layers layers.</summary>
    public BertEncoder(BertConfig config, Generator? generator = null) : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        Layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, generator)).ToArray());
        register_module("layer", Layer);
    }

    /// <summary>The layers, bottom first.</summary>
    public ModuleList<BertLayer> Layer { get; }
}
