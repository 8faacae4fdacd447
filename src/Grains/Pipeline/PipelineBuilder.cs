namespace Gatehouse.Pipeline;

/// <summary>Composes <see cref="IPipelineStage"/>s, as <c>ChatClientBuilder</c> composes chat clients: the first stage added is the outermost.</summary>
/// <remarks>Not thread-safe; build once (at start) and share the built stage.</remarks>
public sealed class PipelineBuilder
{
    private readonly List<Func<IPipelineStage, IPipelineStage>> _stageFactories = [];

    /// <summary>Adds a stage, created around the stages added after it (and the terminal one).</summary>
    /// <param name="stageFactory">Creates the stage from the next one.</param>
    public PipelineBuilder Use(Func<IPipelineStage, IPipelineStage> stageFactory)
    {
        ArgumentNullException.ThrowIfNull(stageFactory);
        _stageFactories.Add(stageFactory);
        return this;
    }

    /// <summary>Creates the stages, innermost first, around <paramref name="terminal"/>; returns the outermost one.</summary>
    public IPipelineStage Build(IPipelineStage terminal)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        var stage = terminal;
        for (var i = _stageFactories.Count - 1; i >= 0; i--)
        {
            stage = _stageFactories[i](stage)
                ?? throw new InvalidOperationException($"The stage factory at index {i} returned null.");
        }

        return stage;
    }
}
