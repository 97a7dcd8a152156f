# Source me: the spark dbt target (a local Spark session inside dbt) on the warehouse directory
# PRODUCT_METRICS_SPARK_DIR (table files and the embedded metastore; default integration_tests/warehouse/spark).
# Every value can be set beforehand.
export DBT_TARGET=spark
PRODUCT_METRICS_SPARK_DIR="${PRODUCT_METRICS_SPARK_DIR:-${PWD}/integration_tests/warehouse/spark}"
mkdir -p "${PRODUCT_METRICS_SPARK_DIR}"
PRODUCT_METRICS_SPARK_DIR="$(cd "${PRODUCT_METRICS_SPARK_DIR}" && pwd)"
export PRODUCT_METRICS_SPARK_DIR
export PRODUCT_METRICS_SPARK_CORES="${PRODUCT_METRICS_SPARK_CORES:-2}"
# Read when the JVM starts: the driver's memory, and Derby's log beside its metastore.
export PYSPARK_SUBMIT_ARGS="${PYSPARK_SUBMIT_ARGS:---driver-memory 2g --driver-java-options -Dderby.system.home=${PRODUCT_METRICS_SPARK_DIR} pyspark-shell}"
