namespace Gatehouse.Apps;

/// <summary>What <see cref="AppGrain"/> persists: the app, or null once deleted or never created.</summary>
[GenerateSerializer, Alias("gatehouse.AppGrainState")]
public sealed class AppGrainState
{
    [Id(0)] public AppRecord? App { get; set; }
}
