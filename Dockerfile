# One image for every Keymeter role; KEYMETER_ROLES chooses what a container runs.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
# the wrapper downloads Maven's zip, checked against its SHA-256; without unzip it takes the tar.gz and that check fails
RUN apt-get update && apt-get install -y --no-install-recommends unzip && rm -rf /var/lib/apt/lists/*
RUN ./mvnw -q -B -DskipTests package

FROM eclipse-temurin:17-jre
# owner-only from the start, as Keymeter keeps its data dir (a new volume takes this mode)
RUN useradd --system --home /var/lib/keymeter keymeter && install -d -m 700 -o keymeter /var/lib/keymeter
COPY --from=build /src/app/target/keymeter.jar /opt/keymeter/keymeter.jar
USER keymeter
ENV KEYMETER_ROLES=all \
    KEYMETER_DATA_DIR=/var/lib/keymeter \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60"
VOLUME /var/lib/keymeter
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/keymeter/keymeter.jar"]
