# The Gatehouse silo image: docker-compose.yml runs three silos and the schema step from it.
#   docker build -t gatehouse .
#   docker run ... gatehouse            a silo (configured by GATEHOUSE_CONFIG and Gatehouse__ variables)
#   docker run ... gatehouse migrate    applies the PostgreSQL schema (idempotent) and exits
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Project files first, so the package restore is cached until a project file changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/Abstractions/Gatehouse.Abstractions.csproj src/Abstractions/
COPY src/Grains/Gatehouse.Grains.csproj src/Grains/
COPY src/Silo/Gatehouse.Silo.csproj src/Silo/
RUN dotnet restore src/Silo
COPY src/ src/
RUN dotnet publish src/Silo -c Release --no-restore -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# HTTP on every interface of the container (the image's own HTTP_PORTS default is cleared so URLS alone decides);
# 11111 is the silo-to-silo port, 30000 the gateway for grain clients (Gatehouse__Cluster__SiloPort / GatewayPort).
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 8080 11111 30000
# The image's non-root user (UID 1654).
USER $APP_UID
# Ready = the silo is an active cluster member. The image has no curl; bash's /dev/tcp asks /readyz on port 8080
# (change it here if ASPNETCORE_URLS names another port).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 4 _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["dotnet", "Gatehouse.Silo.dll"]
