namespace Gatehouse.Silo.Http.Embeddings;

/// <summary>How the vectors are written back: OpenAI's <c>encoding_format</c>.</summary>
internal enum EmbeddingEncoding
{
    Float = 0,
    Base64 = 1,
}
