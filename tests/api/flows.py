"""Flow sources the API tests deploy."""

HELLO = """\
id: hello
namespace: company.team
labels:
  team: data
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: count
    type: INT
    defaults: 1
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.name }} x{{ inputs.count }}"
  - id: warn
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: "careful"
"""

SLEEPY = """\
id: sleepy
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""

PAUSED = """\
id: paused
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: reason
        type: STRING
  - id: said
    type: io.kestra.plugin.core.log.Log
    message: "resumed because {{ outputs.wait.onResume.reason }}"
"""

FAILING = """\
id: failing
namespace: company.ops
tasks:
  - id: fails
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: disk is full
"""

SECRET = """\
id: secretive
namespace: company.team
inputs:
  - id: token
    type: SECRET
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "token is {{ inputs.token }}"
"""
