namespace Gatehouse.Silo.Configuration;

/// <summary>Where the silo's configuration comes from, in order of precedence (last wins).</summary>
internal static class GatehouseConfiguration
{
    public const string ConfigFileVariable = "GATEHOUSE_CONFIG";
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// appsettings.json (added by the host), then the JSON file named by <c>GATEHOUSE_CONFIG</c>, then environment
    /// variables (<c>Gatehouse__...</c>) and the command line again so that they still win over the file.
    /// </summary>
    public static void AddSources(ConfigurationManager configuration, string[] args)
    {
        var file = Environment.GetEnvironmentVariable(ConfigFileVariable);
        if (string.IsNullOrWhiteSpace(file))
        {
            return;
        }

        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{ConfigFileVariable} names '{path}', which does not exist.", path);
        }

        configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args);
    }
}
