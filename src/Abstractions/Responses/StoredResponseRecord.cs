namespace Gatehouse.Responses;

/// <summary>What a response grain persists: the response and when it stops being served.</summary>
[GenerateSerializer, Alias("gatehouse.StoredResponseRecord")]
public sealed class StoredResponseRecord
{
    [Id(0)] public StoredResponse? Response { get; set; }
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }
}
