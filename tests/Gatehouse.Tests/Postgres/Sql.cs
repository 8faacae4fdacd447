using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>Small reads for assertions about what a database holds.</summary>
internal static class Sql
{
    /// <summary>The first column of every row, as text.</summary>
    public static async Task<List<string>> ListAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return values;
    }

    public static async Task<long> CountAsync(string connectionString, string sql) =>
        long.Parse((await ListAsync(connectionString, sql)).Single(), System.Globalization.CultureInfo.InvariantCulture);
}
