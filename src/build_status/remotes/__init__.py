"""The remote systems, one module (or package) each: Bitbucket Data Center, Coveralls, webapp.io.

Each keeps to itself its paths, field names and limits. A place build statuses go implements
:class:`interface.StatusRemote`; the tasks use only that interface, so a second Bitbucket (Cloud) is a new
package beside ``bitbucket_dc`` and changes no task.
"""
