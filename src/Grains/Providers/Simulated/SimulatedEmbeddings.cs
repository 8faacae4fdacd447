using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Errors;

namespace Gatehouse.Providers.Simulated;

/// <summary>
/// The simulated provider's vectors: derived from the model and the text alone, so the same input always gets the same
/// vector (on every silo, across restarts) and any other input a different one; unit length, as real embedding models
/// answer, so cosine similarity and dot product agree.
/// </summary>
internal static class SimulatedEmbeddings
{
    /// <summary>The length of a vector when the request names none.</summary>
    public const int DefaultDimensions = 256;

    /// <summary>The longest vector a request may ask for, that of the largest real models.</summary>
    public const int MaxDimensions = 4096;

    /// <exception cref="GatewayException"><paramref name="dimensions"/> is out of 1..<see cref="MaxDimensions"/> (<see cref="GatewayError.InvalidRequest"/>).</exception>
    public static float[] Vector(string model, string input, int? dimensions)
    {
        var length = dimensions ?? DefaultDimensions;
        if (length is < 1 or > MaxDimensions)
        {
            throw new GatewayException(GatewayError.InvalidRequest, $"dimensions must be between 1 and {MaxDimensions}", "dimensions");
        }

        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(model + "\n" + input));
        var vector = new float[length];
        Span<byte> block = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> counted = stackalloc byte[seed.Length + sizeof(int)];
        seed.CopyTo(counted);
        double sumOfSquares = 0;
        for (var i = 0; i < length; i += block.Length / sizeof(uint))
        {
            // SHA-256 in counter mode: 8 values a block, each uniform in [-1, 1).
            BinaryPrimitives.WriteInt32LittleEndian(counted[seed.Length..], i);
            SHA256.HashData(counted, block);
            for (var j = 0; j < block.Length / sizeof(uint) && i + j < length; j++)
            {
                var value = (float)(BinaryPrimitives.ReadUInt32LittleEndian(block[(j * sizeof(uint))..]) / 2147483648.0 - 1.0);
                vector[i + j] = value;
                sumOfSquares += (double)value * value;
            }
        }

        // Only a vector whose every draw is exactly 0 has no norm; improbable, but it must not become NaN.
        var norm = sumOfSquares > 0 ? Math.Sqrt(sumOfSquares) : 1;
        for (var i = 0; i < length; i++)
        {
            vector[i] = (float)(vector[i] / norm);
        }

        return vector;
    }
}
