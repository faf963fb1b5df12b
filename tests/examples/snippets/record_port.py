# A test that records which port its worker's server got, in the file $PORT_LOG.
import os


def test_record_port(httpserver):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.environ["PORT_LOG"], "a") as log:
        log.write(f"{worker} {httpserver.port}\n")
    httpserver.expect_request("/").respond_with_data("ok")
